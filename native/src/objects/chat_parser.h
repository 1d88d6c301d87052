#pragma once
// The model's own chat format, both ways, through llama.cpp's chat layer (common/chat.h):
//   applyChat(request)  renders a request with the model's template and returns everything the template
//                       handler decided: the prompt, the format, the tool-call grammar with its lazy
//                       triggers, preserved tokens, extra stops, the thinking tags and the output parser;
//   ChatParser          reads the model's output back (also a partial one while it streams) into
//                       reasoning, content and tool calls.
// JavaScript never re-implements a model's format: it only moves these results around.
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "chat.h"
#include "objects/model.h"

namespace westfall {

// applyChat(model state, request JSON) -> result object. Throws CodedError("invalid_params") when the
// template or the request cannot be handled.
Napi::Value ApplyChat(Napi::Env env, const ModelState& state, const std::string& request_json);

class ChatParser : public Napi::ObjectWrap<ChatParser> {
 public:
  static Napi::Function Init(Napi::Env env);
  // createChatParser({ format, parser, generationPrompt, reasoningFormat, reasoningInContent,
  //                    parseToolCalls }) -> ChatParser
  static Napi::Value Create(const Napi::CallbackInfo& info);

  explicit ChatParser(const Napi::CallbackInfo& info);

 private:
  // parse(text, isPartial) -> { message: { content, reasoning, toolCalls }, error? }. The whole text each
  // time: the parsers are not incremental, and a partial parse of the text so far is what streams.
  Napi::Value Parse(const Napi::CallbackInfo& info);

  // Parses `text`; on a format mismatch, the text is returned as plain content and `error` says why.
  common_chat_msg ParseText(const std::string& text, bool is_partial, std::string& error) const;

  common_chat_parser_params params_;
};

}  // namespace westfall
