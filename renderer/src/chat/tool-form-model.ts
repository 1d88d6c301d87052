// A tool's arguments as a form, generated from its JSON schema (ours from zod, or any MCP server's):
// one field per property, labelled from its title (or its name in words) with its description as help,
// enums as selects, the user's data (accounts, projects) offered as choices, required fields marked.
// Values are kept as the text the user sees and turned back into arguments with what is missing or wrong,
// so "name the project" becomes an empty required field instead of a failed call.
export type JsonSchema = Record<string, unknown>;

export interface ToolChoiceOption {
  value: string | number;
  label: string;
  extra?: Record<string, string>;
}
export type ToolChoices = Record<string, ToolChoiceOption[]>;

export type FieldKind = 'text' | 'number' | 'integer' | 'boolean' | 'select' | 'date' | 'list' | 'json';

export interface FormField {
  name: string;
  label: string;
  help: string;
  kind: FieldKind;
  /** Required by the schema. */
  required: boolean;
  /** Other fields of which one must be given (with this one). */
  anyOf: string[];
  /** Selects: value (as text) and label. */
  options: { value: string; label: string }[];
  /** Text fields: values to suggest (free text still allowed). */
  suggestions: string[];
  /** What the value is made of (numbers for selects of ids, list items). */
  /** 'mixed': a number or text (a plain number is sent as a number, anything else as text). */
  valueType: 'string' | 'number' | 'integer' | 'boolean' | 'mixed';
  default?: unknown;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  placeholder: string;
}

/** What the form holds: each field's text (checkboxes: a boolean). */
export type FormValues = Record<string, string | boolean>;

export interface FormState {
  /** The arguments the form stands for. */
  args: Record<string, unknown>;
  /** Field name → what is wrong with it. */
  problems: Record<string, string>;
}

/** "accountId" / "start_time" → "Account id" / "Start time". */
export function humanize(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A property's own schema, without a `null` alternative (nullable fields are simply optional). */
function unwrap(node: JsonSchema): JsonSchema {
  for (const key of ['anyOf', 'oneOf'] as const) {
    const alts = node[key];
    if (Array.isArray(alts)) {
      const real = (alts as JsonSchema[]).filter((a) => a.type !== 'null');
      if (real.length === 1) return { ...node, ...real[0], [key]: undefined };
    }
  }
  if (Array.isArray(node.type)) {
    const real = (node.type as string[]).filter((t) => t !== 'null');
    if (real.length === 1) return { ...node, type: real[0] };
  }
  return node;
}

function primitive(t: unknown): 'string' | 'number' | 'integer' | 'boolean' | null {
  return t === 'string' || t === 'number' || t === 'integer' || t === 'boolean' ? t : null;
}

function fieldOf(name: string, raw: JsonSchema, required: boolean, anyOf: string[], choices: ToolChoiceOption[] | undefined): FormField {
  const s = unwrap(raw);
  const type = primitive(s.type) ?? (Array.isArray(s.enum) && s.enum.every((v) => typeof v === 'string') ? 'string' : null);
  const base = {
    name,
    label: typeof s.title === 'string' && s.title ? s.title : humanize(name),
    help: typeof s.description === 'string' ? s.description : '',
    required,
    anyOf,
    options: [] as { value: string; label: string }[],
    suggestions: [] as string[],
    ...(s.default !== undefined ? { default: s.default } : {}),
    ...(typeof s.minimum === 'number' ? { minimum: s.minimum } : {}),
    ...(typeof s.maximum === 'number' ? { maximum: s.maximum } : {}),
    ...(typeof s.maxLength === 'number' ? { maxLength: s.maxLength } : {}),
    placeholder: '',
  };
  if (Array.isArray(s.enum) && s.enum.every((v) => typeof v === 'string' || typeof v === 'number')) {
    return { ...base, kind: 'select', valueType: typeof s.enum[0] === 'number' ? 'number' : 'string', options: s.enum.map((v) => ({ value: String(v), label: String(v) })) };
  }
  if (type === 'boolean') return { ...base, kind: 'boolean', valueType: 'boolean' };
  if ((type === 'integer' || type === 'number') && choices && choices.length > 0) {
    return { ...base, kind: 'select', valueType: type, options: choices.map((c) => ({ value: String(c.value), label: c.label })) };
  }
  if (type === 'integer' || type === 'number') return { ...base, kind: type, valueType: type };
  if (type === 'string') {
    const kind: FieldKind = s.format === 'date' ? 'date' : 'text';
    const placeholder = s.format === 'date-time' ? 'e.g. 2025-03-01T17:00:00+01:00' : '';
    return { ...base, kind, valueType: 'string', placeholder, suggestions: (choices ?? []).map((c) => String(c.value)) };
  }
  const alts = (Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.type) ? (s.type as string[]).map((t) => ({ type: t })) : []) as JsonSchema[];
  if (alts.length > 1 && alts.every((a) => primitive(a.type) && a.type !== 'boolean')) {
    return { ...base, kind: 'text', valueType: alts.some((a) => a.type === 'string') ? 'mixed' : 'number', placeholder: '', suggestions: [] };
  }
  if (s.type === 'array') {
    const item = primitive(unwrap((s.items as JsonSchema | undefined) ?? {}).type);
    if (item && item !== 'boolean') return { ...base, kind: 'list', valueType: item, placeholder: 'separated by commas' };
  }
  return { ...base, kind: 'json', valueType: 'string', placeholder: 'JSON' };
}

/** The fields of an object schema (anything else has none: the tool takes no arguments we can show). */
export function formFields(schema: JsonSchema | null | undefined, options: { choices?: ToolChoices; requiredAny?: string[][] } = {}): FormField[] {
  const props = schema && typeof schema.properties === 'object' && schema.properties ? (schema.properties as Record<string, JsonSchema>) : {};
  const required = new Set(Array.isArray(schema?.required) ? (schema!.required as string[]) : []);
  const groups = options.requiredAny ?? [];
  return Object.entries(props).map(([name, node]) => {
    const anyOf = groups.find((g) => g.includes(name)) ?? [];
    return fieldOf(name, node ?? {}, required.has(name), anyOf, options.choices?.[name]);
  });
}

function textOf(field: FormField, v: unknown): string | boolean {
  if (field.kind === 'boolean') return v === undefined || v === null ? field.default === true : v === true;
  if (v === undefined || v === null) return field.default !== undefined && field.kind !== 'json' ? textOf(field, field.default) : '';
  if (field.kind === 'list') return Array.isArray(v) ? v.map(String).join(', ') : String(v);
  if (field.kind === 'json') return JSON.stringify(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** The form's starting values: the model's arguments, else the schema's defaults. */
export function initialValues(fields: readonly FormField[], args: unknown): FormValues {
  const a = (args && typeof args === 'object' && !Array.isArray(args) ? args : {}) as Record<string, unknown>;
  return Object.fromEntries(fields.map((f) => [f.name, textOf(f, a[f.name])]));
}

function toNumber(field: FormField, text: string): { value?: number; problem?: string } {
  const n = Number(text.replace(/\s/g, ''));
  if (!Number.isFinite(n)) return { problem: 'Enter a number' };
  if (field.valueType === 'integer' && !Number.isInteger(n)) return { problem: 'Enter a whole number' };
  if (field.minimum !== undefined && n < field.minimum) return { problem: `At least ${field.minimum}` };
  if (field.maximum !== undefined && n > field.maximum) return { problem: `At most ${field.maximum}` };
  return { value: n };
}

function parseOne(field: FormField, raw: string | boolean): { value?: unknown; problem?: string } {
  if (field.kind === 'boolean') return { value: raw === true };
  const text = String(raw).trim();
  if (text === '') return {};
  switch (field.kind) {
    case 'integer':
    case 'number':
      return toNumber(field, text);
    case 'select':
      return field.valueType === 'string' ? { value: text } : toNumber(field, text);
    case 'list': {
      const items = text.split(',').map((x) => x.trim()).filter(Boolean);
      if (field.valueType === 'string') return { value: items };
      const nums = items.map((x) => toNumber(field, x));
      const bad = nums.find((r) => r.problem);
      return bad ? { problem: bad.problem! } : { value: nums.map((r) => r.value) };
    }
    case 'json':
      try {
        return { value: JSON.parse(text) };
      } catch {
        return { problem: 'Not valid JSON' };
      }
    default:
      if (field.valueType === 'mixed') return /^-?\d+(\.\d+)?$/.test(text) ? { value: Number(text) } : { value: text };
      if (field.valueType === 'number') return toNumber(field, text);
      if (field.maxLength !== undefined && text.length > field.maxLength) return { problem: `At most ${field.maxLength} characters` };
      return { value: String(raw) };
  }
}

/** The arguments the values stand for, and what is missing or wrong (field name → message). */
export function formState(fields: readonly FormField[], values: FormValues): FormState {
  const args: Record<string, unknown> = {};
  const problems: Record<string, string> = {};
  for (const f of fields) {
    const r = parseOne(f, values[f.name] ?? '');
    if (r.problem) problems[f.name] = r.problem;
    else if (r.value !== undefined) args[f.name] = r.value;
    else if (f.required) problems[f.name] = 'Required';
  }
  for (const f of fields) {
    if (f.anyOf.length > 0 && f.anyOf[0] === f.name && !f.anyOf.some((n) => args[n] !== undefined) && !f.anyOf.some((n) => problems[n])) {
      const labels = f.anyOf.map((n) => fields.find((x) => x.name === n)?.label ?? n);
      problems[f.name] = labels.length > 1 ? `Fill in ${labels.join(' or ')}` : 'Required';
    }
  }
  return { args, problems };
}

/** Whether the field must be filled now: required by the schema, or the first of an empty "one of" group. */
export function mustFill(field: FormField, state: FormState): boolean {
  if (field.required) return true;
  return field.anyOf[0] === field.name && !field.anyOf.some((n) => state.args[n] !== undefined);
}

/** The label of a given value (a select's option label, else the value). */
export function displayValue(field: FormField, v: unknown): string {
  if (v === undefined || v === null || v === '') return '';
  if (typeof v === 'boolean') return v ? 'Yes' : 'No';
  const option = field.options.find((o) => o.value === String(v));
  if (option) return option.label;
  if (Array.isArray(v)) return v.map(String).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

interface ToolErrorBody {
  code?: string;
  message?: string;
  details?: { fields?: { path?: string; message?: string }[]; name?: string };
}

function sentenceCase(s: string): string {
  const t = s.trim();
  if (!t) return t;
  const first = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/** A zod message in plainer words. */
function plainIssue(message: string): string {
  if (/received undefined/.test(message) || message === 'Required') return 'missing';
  if (/^Unrecognized key/.test(message)) return 'not something this tool takes';
  const expected = /expected (\w+)/.exec(message);
  if (/^Invalid input/.test(message) && expected) return `should be ${expected[1] === 'number' ? 'a number' : expected[1] === 'string' ? 'text' : `a ${expected[1]}`}`;
  return message.replace(/^Invalid input: ?/, '').toLowerCase();
}

/**
 * A failed call's reason for the user: the fields by their labels, a known code in words, or the tool's
 * own message as a sentence; never a stack or JSON. (The model gets the error as the tool's result.)
 */
export function readableToolError(error: ToolErrorBody | null | undefined, fields: readonly FormField[] = []): string {
  const code = error?.code ?? 'internal_error';
  const label = (path: string) => fields.find((f) => f.name === path.split('.')[0])?.label ?? humanize(path.split('.')[0] ?? path);
  if (code === 'tool_invalid_arguments' && Array.isArray(error?.details?.fields) && error!.details!.fields!.length > 0) {
    const parts = error!.details!.fields!.map((f) => `${label(f.path ?? '')}: ${plainIssue(f.message ?? 'not valid')}`);
    return `Some details were missing or wrong — ${parts.join('; ')}.`;
  }
  if (code === 'tool_not_found') return 'The assistant asked for a tool that does not exist.';
  if (code === 'internal_error') return 'The tool failed unexpectedly.';
  if (code === 'aborted') return 'Stopped before it finished.';
  return sentenceCase(error?.message ?? 'The tool failed.');
}
