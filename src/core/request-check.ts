// The request schema checked by hand, without copying: what zod's parse costs per request, for a body it only reads.
import type { ChatRequest } from './request.js';

/*
 * `chatRequestSchema` (request.ts) stays the contract and the source of every error message; this is the same
 * check written out, so that a valid body is taken as it is. zod's parse of a loose object builds a copy of the body,
 * of every message and of every part: for the bench's two-message body, 2.5 µs and 960 bytes a request, the body then
 * thrown away. A test generates bodies, valid and broken, and requires this check to agree with the schema on each.
 */

type Json = Record<string, unknown>;

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);
const DETAILS = new Set(['auto', 'low', 'high']);
const TOOL_CHOICES = new Set(['none', 'auto', 'required']);
const FORMATS = new Set(['text', 'json_object', 'json_schema']);

/** What zod takes as an object: anything typed 'object' but null and arrays. */
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const filled = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
/** zod's `z.number()`: finite numbers only. */
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
/** zod 4's `.int()`: safe integers. */
const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
const absent = (v: unknown) => v === undefined;
const nullish = (v: unknown) => v === undefined || v === null;

function isPart(p: unknown): boolean {
  if (!isObject(p) || !isString(p.type)) return false;
  if (p.type === 'text') return isString(p.text);
  if (p.type === 'image_url') {
    const img = p.image_url;
    return isObject(img) && filled(img.url) && (absent(img.detail) || DETAILS.has(img.detail as string));
  }
  return true; // audio, files, refusals: passed through untouched
}

function isToolCall(t: unknown): boolean {
  if (!isObject(t) || !isString(t.id) || t.type !== 'function') return false;
  const f = t.function;
  return isObject(f) && isString(f.name) && isString(f.arguments);
}

function isMessage(m: unknown): boolean {
  if (!isObject(m) || !ROLES.has(m.role as string)) return false;
  const c = m.content;
  if (!(nullish(c) || isString(c) || (Array.isArray(c) && c.every(isPart)))) return false;
  if (!(absent(m.name) || isString(m.name))) return false;
  if (!(absent(m.tool_call_id) || isString(m.tool_call_id))) return false;
  return absent(m.tool_calls) || (Array.isArray(m.tool_calls) && m.tool_calls.every(isToolCall));
}

function isTool(t: unknown): boolean {
  if (!isObject(t) || t.type !== 'function') return false;
  const f = t.function;
  return (
    isObject(f) &&
    filled(f.name) &&
    (absent(f.description) || isString(f.description)) &&
    (absent(f.parameters) || isObject(f.parameters)) &&
    (nullish(f.strict) || typeof f.strict === 'boolean')
  );
}

function isToolChoice(c: unknown): boolean {
  if (isString(c)) return TOOL_CHOICES.has(c);
  return isObject(c) && c.type === 'function' && isObject(c.function) && isString(c.function.name);
}

function isResponseFormat(r: unknown): boolean {
  if (!isObject(r) || !FORMATS.has(r.type as string)) return false;
  return absent(r.json_schema) || (isObject(r.json_schema) && isString(r.json_schema.name));
}

const optionalInt = (v: unknown, min: number, max: number) => nullish(v) || (isInt(v) && v >= min && v <= max);
const optionalNumber = (v: unknown, min: number, max: number) => nullish(v) || (isNumber(v) && v >= min && v <= max);

/**
 * True when `body` satisfies `chatRequestSchema`, checked in place; the caller then uses the body itself as the
 * request. False means zod is to parse it, for the error it names.
 */
export function isChatRequest(body: Json): body is Json & ChatRequest {
  const b = body;
  return (
    filled(b.model) &&
    Array.isArray(b.messages) &&
    b.messages.length > 0 &&
    b.messages.every(isMessage) &&
    (absent(b.tools) || (Array.isArray(b.tools) && b.tools.every(isTool))) &&
    (absent(b.tool_choice) || isToolChoice(b.tool_choice)) &&
    (absent(b.parallel_tool_calls) || typeof b.parallel_tool_calls === 'boolean') &&
    (absent(b.response_format) || isResponseFormat(b.response_format)) &&
    (nullish(b.stream) || typeof b.stream === 'boolean') &&
    (nullish(b.stream_options) ||
      (isObject(b.stream_options) && (absent(b.stream_options.include_usage) || typeof b.stream_options.include_usage === 'boolean'))) &&
    optionalInt(b.max_tokens, 1, Infinity) &&
    optionalInt(b.max_completion_tokens, 1, Infinity) &&
    optionalNumber(b.temperature, 0, 2) &&
    optionalNumber(b.top_p, 0, 1) &&
    (nullish(b.stop) || isString(b.stop) || (Array.isArray(b.stop) && b.stop.length <= 4 && b.stop.every(isString))) &&
    optionalInt(b.n, 1, 128) &&
    optionalInt(b.seed, -Infinity, Infinity) &&
    (absent(b.user) || isString(b.user))
  );
}
