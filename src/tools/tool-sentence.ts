// A tool call in plain words, for the confirmation card: "Start a timer on project Garden?". Each tool
// declares a template (registry.ts `confirm`); this fills it from the call's arguments. A pure module (no
// imports): the renderer's bundle takes it too (renderer/src/chat/tool-form-sentence.ts), so the sentence
// follows the user's edits of the form with the very same rules.
//
// Template syntax:
//   {field}             the argument's value (a choice's label where the field has choices; "…" if missing)
//   {a/b}               the first of a, b that is given
//   {field|abs}         a number without its sign
//   {field.key}         an extra of the chosen value (`{accountId.currency}` → "EUR")
//   {field<0?yes:no}    words chosen by the sign of a number; {field?yes:no} by whether it is given/true;
//   {field=value?yes:no} by its value; chained: {type=expense?an expense:type=income?an income:...}
//   [ ... ]             an optional part, left out when a field inside it is missing
/** A value an argument may take, as the confirmation form offers it. */
export interface ToolChoiceOption {
  value: string | number;
  label: string;
  /** Extra words the sentence may use (`{accountId.currency}`). */
  extra?: Record<string, string>;
}
export type ToolChoices = Record<string, ToolChoiceOption[]>;

export const MISSING = '…';

export interface FilledSentence {
  text: string;
  /** Fields the sentence needed that are not given. */
  missing: string[];
}

type Args = Record<string, unknown>;

function given(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0);
}

function show(field: string, v: unknown, choices: ToolChoices): string {
  const options = choices[field];
  const chosen = options?.find((o) => String(o.value) === String(v));
  if (chosen) return chosen.label;
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) return v.map((x) => show(field, x, choices)).join(', ');
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return String(v);
}

const CONDITION = /^([\w.]+)\s*(<0|=[^?:]*)?\?([^:]*):(.*)$/s;

/** A conditional placeholder's words: `field<0?`, `field=value?` or `field?`, chained in the "else" part. */
function choose(expr: string, args: Args): string {
  const cond = CONDITION.exec(expr);
  if (!cond) return expr;
  const v = args[cond[1]!];
  const test = cond[2];
  const yes =
    test === '<0'
      ? (typeof v === 'number' && v < 0) || (typeof v === 'string' && v.trim().startsWith('-'))
      : test?.startsWith('=')
        ? given(v) && String(v) === test.slice(1)
        : given(v) && v !== false;
  return yes ? cond[3]! : choose(cond[4]!, args);
}

/** One `{…}` placeholder: its text, and the field it needed when that field is missing. */
function placeholder(expr: string, args: Args, choices: ToolChoices): { text: string; missing: string | null } {
  const cond = CONDITION.exec(expr);
  if (cond) return { text: choose(expr, args), missing: null };
  const [path, filter] = expr.split('|').map((x) => x.trim()) as [string, string | undefined];
  const names = path.split('/').map((x) => x.trim());
  for (const name of names) {
    const [field, extra] = name.split('.') as [string, string | undefined];
    const v = args[field];
    if (!given(v)) continue;
    if (extra) {
      const chosen = choices[field]?.find((o) => String(o.value) === String(v));
      const e = chosen?.extra?.[extra];
      if (e === undefined) continue;
      return { text: e, missing: null };
    }
    if (filter === 'abs' && typeof v === 'number') return { text: String(Math.abs(v)), missing: null };
    if (filter === 'abs' && typeof v === 'string') return { text: v.trim().replace(/^-\s*/, ''), missing: null };
    return { text: show(field, v, choices), missing: null };
  }
  return { text: MISSING, missing: names[0]!.split('.')[0]! };
}

function fillPart(template: string, args: Args, choices: ToolChoices): FilledSentence {
  const missing: string[] = [];
  const text = template.replace(/\{([^{}]+)\}/g, (_, expr: string) => {
    const p = placeholder(expr, args, choices);
    if (p.missing) missing.push(p.missing);
    return p.text;
  });
  return { text, missing };
}

/** Fills a template from arguments (and the labels of choices). */
export function fillSentence(template: string, args: unknown, choices: ToolChoices = {}): FilledSentence {
  const a = (args && typeof args === 'object' && !Array.isArray(args) ? args : {}) as Args;
  const missing: string[] = [];
  // Optional parts first: kept whole when every field inside is given, else left out.
  const withoutOptional = template.replace(/\[([^[\]]*)\]/g, (_, part: string) => {
    const filled = fillPart(part, a, choices);
    return filled.missing.length > 0 ? '' : filled.text;
  });
  const filled = fillPart(withoutOptional, a, choices);
  missing.push(...filled.missing);
  return { text: filled.text.replace(/\s+([?.,])/g, '$1').replace(/\s{2,}/g, ' ').trim(), missing };
}

/** The sentence for a tool without a template (MCP tools, or any not yet described). */
export function genericSentence(title: string, source: string): string {
  return `Use ${title} from ${source}?`;
}
