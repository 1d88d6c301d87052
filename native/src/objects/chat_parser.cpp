#include "objects/chat_parser.h"

#include <cctype>

#include "json.h"
#include "util/convert.h"
#include "util/errors.h"

namespace westfall {

namespace {

Napi::FunctionReference* g_parser_ctor = nullptr;

Napi::Array ToArray(Napi::Env env, const std::vector<std::string>& v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); i++) a.Set(i, v[i]);
  return a;
}

const char* TriggerTypeName(common_grammar_trigger_type t) {
  switch (t) {
    case COMMON_GRAMMAR_TRIGGER_TYPE_TOKEN: return "token";
    case COMMON_GRAMMAR_TRIGGER_TYPE_WORD: return "word";
    case COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN: return "pattern";
    case COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN_FULL: return "pattern_full";
  }
  return "word";
}

Napi::Object ToolCallObject(Napi::Env env, const common_chat_tool_call& c) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", c.name);
  o.Set("arguments", c.arguments);
  o.Set("id", c.id);
  return o;
}

Napi::Object MessageObject(Napi::Env env, const common_chat_msg& m) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("content", m.content);
  o.Set("reasoning", m.reasoning_content);
  Napi::Array calls = Napi::Array::New(env, m.tool_calls.size());
  for (size_t i = 0; i < m.tool_calls.size(); i++) calls.Set(i, ToolCallObject(env, m.tool_calls[i]));
  o.Set("toolCalls", calls);
  return o;
}

// tool_choice "required": llama.cpp's grammars allow free text before the call (`until-N` in the root rule,
// right before the tool-call rule), so a weak model may write until max_tokens and never call. OpenAI's
// "required" means a call, so that free text goes: the call follows the generation prompt and any
// thinking (thinking blocks are parenthesized, or precede other text, and stay as they are). A root rule
// of another shape is left alone.
std::string TightenRequiredGrammar(const std::string& grammar) {
  size_t start = grammar.rfind("\nroot ::= ");
  start = grammar.compare(0, 9, "root ::= ") == 0 ? 0 : (start == std::string::npos ? start : start + 1);
  if (start == std::string::npos) return grammar;
  size_t end = grammar.find('\n', start);
  if (end == std::string::npos) end = grammar.size();
  struct Item {
    size_t begin, end;
    std::string name;  // identifiers only
  };
  std::vector<Item> items;  // depth-0 items of the rule's right-hand side
  int depth = 0;
  size_t i = start + 9;
  while (i < end) {
    char c = grammar[i];
    if (c == ' ') {
      i++;
    } else if (c == '"' || c == '[') {
      char close = c == '"' ? '"' : ']';
      size_t j = i + 1;
      while (j < end && grammar[j] != close) j += grammar[j] == '\\' ? 2 : 1;
      if (depth == 0) items.push_back({i, j + 1, ""});
      i = j + 1;
    } else if (c == '(') {
      depth++;
      i++;
    } else if (c == ')') {
      depth--;
      i++;
    } else if (c == '|') {
      if (depth == 0) return grammar;  // alternatives at the top: not the usual shape
      i++;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') {
      size_t j = i;
      while (j < end && (std::isalnum(static_cast<unsigned char>(grammar[j])) || grammar[j] == '-' || grammar[j] == '_')) j++;
      size_t k = j;
      if (k < end && (grammar[k] == '?' || grammar[k] == '*' || grammar[k] == '+')) k++;
      if (depth == 0) items.push_back({i, k, grammar.substr(i, j - i)});
      i = k;
    } else {
      i++;  // repetition marks after a group, etc.
    }
  }
  for (size_t n = 0; n < items.size(); n++) {
    if (items[n].name.find("tool-call") == std::string::npos) continue;
    size_t m = n;
    while (m > 0 && items[m - 1].name == "space") m--;
    if (m == 0 || items[m - 1].name.rfind("until-", 0) != 0) return grammar;
    return grammar.substr(0, items[m - 1].begin) + grammar.substr(items[m - 1].end);
  }
  return grammar;
}

common_chat_tool_choice ToolChoice(const std::string& s) {
  if (s.empty() || s == "auto") return COMMON_CHAT_TOOL_CHOICE_AUTO;
  return common_chat_tool_choice_parse_oaicompat(s);  // throws std::invalid_argument for anything else
}

}  // namespace

Napi::Value ApplyChat(Napi::Env env, const ModelState& state, const std::string& request_json) {
  if (!state.templates) throw CodedError(env, "invalid_params", "this model was loaded without weights (vocabOnly) and has no chat template");
  common_chat_params out;
  try {
    common_json req = common_json::parse(request_json);
    common_chat_templates_inputs in;
    in.messages = common_chat_msgs_parse_oaicompat(req.at("messages"));
    if (req.contains("tools") && req.at("tools").is_array() && !req.at("tools").empty()) {
      in.tools = common_chat_tools_parse_oaicompat(req.at("tools"));
    }
    in.tool_choice = ToolChoice(req.value("toolChoice", std::string("auto")));
    in.parallel_tool_calls = req.value("parallelToolCalls", false);
    if (req.contains("jsonSchema") && !req.at("jsonSchema").is_null()) in.json_schema = req.at("jsonSchema").dump();
    in.add_generation_prompt = req.value("addGenerationPrompt", true);
    in.reasoning_format = common_reasoning_format_from_name(req.value("reasoningFormat", std::string("auto")));
    in.enable_thinking = req.value("enableThinking", true);
    if (req.contains("chatTemplateKwargs") && req.at("chatTemplateKwargs").is_object()) {
      for (const auto& item : req.at("chatTemplateKwargs").items()) in.chat_template_kwargs[item.key()] = item.value().dump();
    }
    in.use_jinja = true;
    out = common_chat_templates_apply(state.templates.get(), in);
    if (in.tool_choice == COMMON_CHAT_TOOL_CHOICE_REQUIRED && !in.tools.empty() && !out.grammar_lazy) {
      out.grammar = TightenRequiredGrammar(out.grammar);
    }
    // parallel_tool_calls false: some formats' grammars still repeat the whole call block (one call per
    // block, any number of blocks); one block it is.
    if (!in.parallel_tool_calls && !in.tools.empty()) {
      const std::string repeated = "\ntool-calls ::= (tool-call space)+\n";
      size_t at = out.grammar.find(repeated);
      if (at != std::string::npos) out.grammar.replace(at, repeated.size(), "\ntool-calls ::= tool-call space\n");
    }
  } catch (const std::exception& e) {
    throw CodedError(env, "invalid_params", std::string("chat template could not be applied: ") + e.what());
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("prompt", out.prompt);
  o.Set("format", common_chat_format_name(out.format));
  o.Set("formatId", static_cast<int32_t>(out.format));
  o.Set("grammar", out.grammar);
  o.Set("grammarLazy", out.grammar_lazy);
  Napi::Array triggers = Napi::Array::New(env, out.grammar_triggers.size());
  for (size_t i = 0; i < out.grammar_triggers.size(); i++) {
    Napi::Object t = Napi::Object::New(env);
    t.Set("type", TriggerTypeName(out.grammar_triggers[i].type));
    t.Set("value", out.grammar_triggers[i].value);
    triggers.Set(i, t);
  }
  o.Set("grammarTriggers", triggers);
  o.Set("preservedTokens", ToArray(env, out.preserved_tokens));
  o.Set("additionalStops", ToArray(env, out.additional_stops));
  o.Set("generationPrompt", out.generation_prompt);
  o.Set("supportsThinking", out.supports_thinking);
  o.Set("thinkingStartTag", out.thinking_start_tag);
  o.Set("thinkingEndTags", ToArray(env, out.thinking_end_tags));
  o.Set("parser", out.parser);
  return o;
}

Napi::Function ChatParser::Init(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "ChatParser", {
      InstanceMethod<&ChatParser::Parse>("parse"),
  });
  g_parser_ctor = new Napi::FunctionReference(Napi::Persistent(ctor));
  return ctor;
}

Napi::Value ChatParser::Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw CodedError(env, "invalid_params", "chat parser options must be an object");
  return g_parser_ctor->New({info[0]});
}

ChatParser::ChatParser(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ChatParser>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw CodedError(env, "invalid_params", "use createChatParser()");
  Napi::Object o = info[0].As<Napi::Object>();
  int32_t format = static_cast<int32_t>(GetNumber(o, "formatId", 0));
  if (format < 0 || format >= COMMON_CHAT_FORMAT_COUNT) throw CodedError(env, "invalid_params", "unknown chat format id " + std::to_string(format));
  params_.format = static_cast<common_chat_format>(format);
  params_.generation_prompt = GetString(o, "generationPrompt", "");
  params_.parse_tool_calls = GetBool(o, "parseToolCalls", true);
  params_.reasoning_in_content = GetBool(o, "reasoningInContent", false);
  try {
    params_.reasoning_format = common_reasoning_format_from_name(GetString(o, "reasoningFormat", "auto"));
    std::string parser = GetString(o, "parser", "");
    if (!parser.empty()) params_.parser.load(parser);
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw CodedError(env, "invalid_params", std::string("chat parser could not be created: ") + e.what());
  }
}

common_chat_msg ChatParser::ParseText(const std::string& text, bool is_partial, std::string& error) const {
  try {
    return common_chat_parse(text, is_partial, params_);
  } catch (const std::exception& e) {
    // A small model's slip (output that is not in its own format) must not fail the request: the text
    // is the answer, and the caller reports why it was not read as a call.
    error = e.what();
    common_chat_msg m;
    m.role = "assistant";
    m.content = text;
    return m;
  }
}

Napi::Value ChatParser::Parse(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw CodedError(env, "invalid_params", "text must be a string");
  bool is_partial = info.Length() > 1 && info[1].ToBoolean();
  std::string error;
  // ParseText catches what the parser throws; nothing else here throws a non-N-API exception.
  common_chat_msg m = ParseText(info[0].As<Napi::String>().Utf8Value(), is_partial, error);
  Napi::Object o = Napi::Object::New(env);
  o.Set("message", MessageObject(env, m));
  if (!error.empty()) o.Set("error", error);
  return o;
}

}  // namespace westfall
