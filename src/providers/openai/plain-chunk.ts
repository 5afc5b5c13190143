// Reads, in the bytes of one OpenAI stream event, the few parts the gateway uses or changes, in one pass, without parsing it.

/** Where the parts the gateway reads sit in one plain chunk event. Offsets are into the event's bytes. */
export interface PlainChunk {
  /** The upstream model name, inside its quotes: the relay puts the public model in [modelFrom, modelTo). */
  modelFrom: number;
  modelTo: number;
  /** UTF-8 bytes of the delta's text, escapes decoded: what the output estimate counts when no usage comes. */
  contentBytes: number;
  /** Where a top-level `,"usage":null` starts (USAGE_NULL_BYTES long; cut when the client did not ask for usage), or -1. */
  usageNullAt: number;
  /** The token counts of a top-level `usage` object (the usage chunk), or null when there is none. */
  usage: { promptTokens: number; completionTokens: number } | null;
  /** Whether `choices` holds at least one choice (a usage chunk without any is dropped when usage was not asked for). */
  hasChoices: boolean;
}

/** Length of `,"usage":null`. */
export const USAGE_NULL_BYTES = 13;

const QUOTE = 34;
const COMMA = 44;
const COLON = 58;
const OPEN_BRACKET = 91;
const BACKSLASH = 92;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const DATA_OBJECT = Buffer.from('data: {');
const NULL = Buffer.from('null');

/** A key's name as bytes, compared in place. */
const name = (s: string) => Buffer.from(s, 'latin1');
const MODEL = name('model');
const USAGE = name('usage');
const ERROR = name('error');
const CHOICES = name('choices');
const DELTA = name('delta');
const CONTENT = name('content');
const REFUSAL = name('refusal');
const ROLE = name('role');
const PROMPT_TOKENS = name('prompt_tokens');
const COMPLETION_TOKENS = name('completion_tokens');
const ZERO = 48;
const NINE = 57;
/** Digits of a token count read in place: beyond this many it may not be a safe integer, and takes the full parse. */
const MAX_DIGITS = 15;

/** The delta keys a plain chunk may have; the text of the first two is what the output estimate counts. */
const counted = (ev: Uint8Array, from: number, to: number) => is(ev, from, to, CONTENT) || is(ev, from, to, REFUSAL);
const deltaKey = (ev: Uint8Array, from: number, to: number) => counted(ev, from, to) || is(ev, from, to, ROLE);

function is(ev: Uint8Array, from: number, to: number, key: Buffer): boolean {
  if (to - from !== key.length) return false;
  for (let i = 0; i < key.length; i++) if (ev[from + i] !== key[i]) return false;
  return true;
}

/**
 * What a stream's last plain chunk had before its delta: its bytes, up to and including the `{` that opens the delta,
 * and what the scan had read of them. Every chunk of a stream repeats the same id, object, created, model and
 * fingerprint before its delta (170–210 bytes from OpenAI), and the scan's state after a byte depends on the bytes up
 * to it alone (nothing it reads ahead lies past the delta's `{`), so a chunk that starts with the same bytes resumes
 * the scan there: one comparison instead of those bytes walked one by one. One per stream; `plainChunk` fills it in.
 */
export class ChunkPrefix {
  bytes: Buffer | null = null;
  modelFrom = -1;
  modelTo = -1;
  usageNullAt = -1;
  usageSeen = false;
  promptTokens = -1;
  completionTokens = -1;
  choicesAt = -1;
  deltaAt = -1;
}

/**
 * The parts of `ev` (one event, `data: {…}` without its blank line) when it is a chunk in the plain shape every
 * OpenAI-compatible server sends for generated text, else null and the caller parses the event whole: compact JSON
 * (no whitespace outside strings) on one `data` line; one top-level `model` with a plain string; no top-level
 * `error`; a top-level `usage`, if any, `null` and after the first member; a `choices` array with at most one
 * `delta`, which holds nothing but `role`, `content` and `refusal`, each a string or null. A top-level `usage` may
 * also be an object (the usage chunk) whose `prompt_tokens` (required) and `completion_tokens` are plain integers,
 * each given once. So tool calls, errors and any other usage take the full parse.
 *
 * One pass over the bytes, following strings (and their escapes) and nesting; what it does not read — ids, finish
 * reasons, logprobs, vendor fields — goes to the client as the provider wrote it, unchecked. With a stream's
 * `ChunkPrefix`, a chunk that starts with the bytes the stream's last chunk had before its delta skips them.
 */
export function plainChunk(ev: Uint8Array, prefix?: ChunkPrefix): PlainChunk | null {
  const end = ev.length;
  if (end < DATA_OBJECT.length + 1 || ev[end - 1] !== CLOSE_BRACE) return null;
  const known = prefix?.bytes ?? null;
  const resume = known !== null && end > known.length && known.compare(ev, 0, known.length) === 0;
  if (!resume) for (let i = 0; i < DATA_OBJECT.length; i++) if (ev[i] !== DATA_OBJECT[i]) return null;

  let modelFrom = -1;
  let modelTo = -1;
  let contentBytes = 0;
  let usageNullAt = -1;
  /** Depth of the top-level `usage` object while inside it, else -1; and what was read of it. */
  let usageAt = -1;
  let usageSeen = false;
  let promptTokens = -1;
  let completionTokens = -1;
  let hasChoices = false;
  let deltas = 0;
  let depth = 1;
  /** Depth of the `choices` array while inside it, else -1. */
  let choicesAt = -1;
  /** Depth of the one `delta` object while inside it, else -1. */
  let deltaAt = -1;
  /** The key just read (its bytes), until its value starts. */
  let keyFrom = -1;
  let keyTo = -1;
  if (resume) {
    // The state the scan had after the same bytes: inside the one delta, which is empty so far.
    ({ modelFrom, modelTo, usageNullAt, usageSeen, promptTokens, completionTokens, choicesAt, deltaAt } = prefix!);
    depth = deltaAt;
    hasChoices = true;
    deltas = 1;
  }
  for (let i = resume ? known.length : DATA_OBJECT.length; i < end; i++) {
    const c = ev[i]!;
    if (c === QUOTE) {
      const from = i + 1;
      let escaped = false;
      for (i = from; i < end; i++) {
        const s = ev[i];
        if (s === QUOTE) break;
        if (s === BACKSLASH) {
          escaped = true;
          i++;
        }
      }
      if (i >= end) return null;
      if (ev[i + 1] === COLON) {
        // A key: remember it, check the ones that decide the shape.
        keyFrom = from;
        keyTo = i;
        i++;
        if (depth === 1) {
          if (is(ev, from, keyTo, ERROR)) return null;
          if (is(ev, from, keyTo, USAGE)) {
            if (usageSeen) return null;
            usageSeen = true;
            // An object is read where it opens; null is cut only after the first member, with the comma before it.
            if (ev[i + 1] !== OPEN_BRACE) {
              if (ev[from - 2] !== COMMA || !is(ev, i + 1, i + 5, NULL)) return null;
              usageNullAt = from - 2;
            }
          }
        } else if (depth === deltaAt && !deltaKey(ev, from, keyTo)) {
          return null;
        } else if (depth === usageAt) {
          const prompt = is(ev, from, keyTo, PROMPT_TOKENS);
          if (prompt || is(ev, from, keyTo, COMPLETION_TOKENS)) {
            const end = integerEnd(ev, i + 1);
            if (end === -1 || (prompt ? promptTokens : completionTokens) !== -1) return null;
            let n = 0;
            for (let d = i + 1; d < end; d++) n = n * 10 + (ev[d]! - ZERO);
            if (prompt) promptTokens = n;
            else completionTokens = n;
            i = end - 1;
            keyFrom = -1;
          }
        }
        continue;
      }
      // A string value: of the key read before it.
      if (keyFrom !== -1) {
        if (depth === 1 && is(ev, keyFrom, keyTo, MODEL)) {
          if (modelFrom !== -1 || escaped) return null;
          modelFrom = from;
          modelTo = i;
        } else if (depth === deltaAt && counted(ev, keyFrom, keyTo)) {
          const bytes = escaped ? escapedBytes(ev, from, i) : i - from;
          if (bytes < 0) return null;
          contentBytes += bytes;
        }
        keyFrom = -1;
      }
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      if (keyFrom !== -1) {
        if (depth === 2 && c === OPEN_BRACKET && is(ev, keyFrom, keyTo, CHOICES)) {
          choicesAt = depth;
          hasChoices = ev[i + 1] !== CLOSE_BRACKET;
        } else if (depth === 2 && c === OPEN_BRACE && is(ev, keyFrom, keyTo, USAGE)) usageAt = depth;
        else if (choicesAt !== -1 && depth === choicesAt + 2 && c === OPEN_BRACE && is(ev, keyFrom, keyTo, DELTA)) {
          if (++deltas > 1) return null;
          deltaAt = depth;
          // Reached only by a scan that did not resume (a resumed one starts inside the delta, and a second fails).
          if (prefix !== undefined) {
            prefix.bytes = Buffer.from(ev.subarray(0, i + 1));
            const state = { modelFrom, modelTo, usageNullAt, usageSeen, promptTokens, completionTokens, choicesAt, deltaAt };
            Object.assign(prefix, state);
          }
        }
      }
      keyFrom = -1;
      continue;
    }
    if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (depth === deltaAt) deltaAt = -1;
      if (depth === choicesAt) choicesAt = -1;
      if (depth === usageAt) usageAt = -1;
      depth--;
      if (depth === 0 && i !== end - 1) return null;
      keyFrom = -1;
      continue;
    }
    if (c === COMMA) {
      keyFrom = -1;
      continue;
    }
    // Numbers, true, false, null: printable ASCII other than the above. Whitespace or a control byte: not compact.
    if (c <= 32 || c >= 127) return null;
    // A value other than a string for `model`, or other than a string or null inside the delta: not plain.
    if (keyFrom !== -1 && depth === 1 && is(ev, keyFrom, keyTo, MODEL)) return null;
    if (keyFrom !== -1 && depth === deltaAt) {
      if (!is(ev, i, i + 4, NULL)) return null;
      i += 3;
      keyFrom = -1;
    }
  }
  if (depth !== 0 || modelFrom === -1) return null;
  let usage = null;
  if (usageSeen && usageNullAt === -1) {
    if (promptTokens === -1) return null; // a usage the gateway could not bill from: the full parse decides
    usage = { promptTokens, completionTokens: completionTokens === -1 ? 0 : completionTokens };
  }
  return { modelFrom, modelTo, contentBytes, usageNullAt, usage, hasChoices };
}

/**
 * Where a JSON integer starting at `from` ends, when it is one as JSON writes it (digits, no sign, no leading zero,
 * no fraction or exponent, at most MAX_DIGITS) and a `,` or `}` follows; else -1.
 */
function integerEnd(ev: Uint8Array, from: number): number {
  let i = from;
  while (i < ev.length && ev[i]! >= ZERO && ev[i]! <= NINE) i++;
  const digits = i - from;
  if (digits === 0 || digits > MAX_DIGITS || (digits > 1 && ev[from] === ZERO)) return -1;
  return ev[i] === COMMA || ev[i] === CLOSE_BRACE ? i : -1;
}

/** UTF-8 bytes of a JSON string's text with escapes, or -1 when the escapes are not valid JSON. */
function escapedBytes(ev: Uint8Array, from: number, to: number): number {
  try {
    return Buffer.byteLength(JSON.parse(`"${Buffer.from(ev.buffer, ev.byteOffset + from, to - from).toString('utf8')}"`) as string);
  } catch {
    return -1;
  }
}
