// The OpenAI-compatible base: OpenAI itself and any server that speaks Chat Completions (Groq, Together, vLLM, Ollama).
import { z } from 'zod';
import type { Usage } from '../../core/cost.js';
import type { ChatRequest } from '../../core/request.js';
import type { ModelEntry } from '../../core/catalog.js';
import type { ChatCompletion, ExchangeInfo, MappedResponse, Provider, StreamTranslator, UpstreamRequest } from '../types.js';
import { UpstreamStreamError } from '../types.js';
import { eventTooLarge, MAX_SSE_EVENT_BYTES, SseDecoder, SseReader, sseData, type SseEvent } from '../../stream/sse.js';
import { ChunkPrefix, plainChunk, USAGE_NULL_BYTES } from './plain-chunk.js';
import { joinBytes } from '../../transport/join-bytes.js';

export const openAICompatibleOptionsSchema = z.object({
  /** Provider name used in model ids (`name/model`). Default `openai`. */
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/).default('openai'),
  apiKey: z.string().min(1),
  /** Base URL including the version path, as the official SDKs take it. Default `https://api.openai.com/v1`. */
  baseURL: z.url().default('https://api.openai.com/v1'),
  /** Extra headers sent on every upstream request (e.g. `OpenAI-Organization`). Default none. */
  headers: z.record(z.string(), z.string()).default({}),
});
export type OpenAICompatibleOptions = z.input<typeof openAICompatibleOptionsSchema>;

interface OpenAIUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
}

const toUsage = (u: OpenAIUsage | null | undefined): Usage | null =>
  u == null || typeof u.prompt_tokens !== 'number'
    ? null
    : { inputTokens: u.prompt_tokens, outputTokens: u.completion_tokens ?? 0, estimated: false };

/** Bytes of generated text in one chunk's deltas (content, refusal, tool-call arguments). */
function deltaBytes(chunk: { choices?: Array<{ delta?: Record<string, unknown> }> }): number {
  let n = 0;
  for (const c of chunk.choices ?? []) {
    const d = c.delta;
    if (d === undefined) continue;
    if (typeof d.content === 'string') n += Buffer.byteLength(d.content);
    if (typeof d.refusal === 'string') n += Buffer.byteLength(d.refusal);
    const calls = d.tool_calls as Array<{ function?: { arguments?: string; name?: string } }> | undefined;
    if (calls !== undefined) for (const t of calls) n += Buffer.byteLength(t.function?.arguments ?? '') + Buffer.byteLength(t.function?.name ?? '');
  }
  return n;
}

const BLANK_LINE = Buffer.from('\n\n');
const DONE_EVENT = Buffer.from('data: [DONE]');
const CR = 13;
const LF = 10;

const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

class OpenAIStreamTranslator implements StreamTranslator {
  private seenUsage: Usage | null = null;
  private bytes = 0;
  private done = false;
  /** The public model id as it goes inside a JSON string, computed once per stream. */
  private readonly modelText: string;
  private readonly modelBytes: Buffer;
  /** Byte path: the reads since the last whole event, waiting for the rest of it, and their length. */
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;
  /** Byte path: what the last plain chunk had before its delta, which the next one most likely repeats. */
  private readonly prefix = new ChunkPrefix();
  /** Byte path: decodes one event that is not a plain chunk, for `push`. */
  private readonly oneEvent = new SseDecoder();
  /** Byte path: the first byte of the read being handled that is neither sent yet nor skipped. */
  private copyFrom = 0;
  /** Set once the stream showed a `\r` (CR line ends): from then on it is decoded as text, which handles every line end. */
  private text: SseReader | null = null;

  constructor(private readonly info: ExchangeInfo, private readonly includeUsage: boolean) {
    this.modelText = JSON.stringify(info.model).slice(1, -1);
    this.modelBytes = Buffer.from(this.modelText);
  }

  /**
   * The upstream already sends the client's framing, so plain chunks (`plainChunk`) go out as the upstream's bytes with
   * the public model spliced in and an unasked-for `"usage":null` cut (the usage chunk read in place, and dropped when
   * the client did not ask for usage): no decoding to text, no JSON.parse, no re-encoding. Every other event is decoded
   * and goes through `push`. Events are cut at `\n\n`, which never falls inside a UTF-8 character.
   */
  pushBytes(bytes: Uint8Array | null, out: Uint8Array[]): void {
    if (this.text !== null) return this.pushText(bytes, out);
    const kept = this.keptBytes;
    if (bytes === null) {
      // An event the upstream left without its blank line is flushed by the text path, which handles every line end.
      if (kept === 0) return;
      this.text = new SseReader();
      this.pushText(this.takeKept(null), out);
      return this.pushText(null, out);
    }
    const read = asBuffer(bytes);
    if (read.indexOf(CR) !== -1) {
      this.text = new SseReader();
      return this.pushText(kept === 0 ? read : this.takeKept(read), out);
    }
    // Still inside one event (no blank line in the read, nor one the read completes): keep the read as it came, and
    // join the event's reads once, when it is whole.
    if (kept > 0 && read.indexOf(BLANK_LINE) === -1 && !(read[0] === LF && this.keptEndsWithLF())) return this.keep(read);
    const buf = kept === 0 ? read : this.takeKept(read);
    // What goes out is the read's bytes with each event's model swapped (and `"usage":null` cut where asked): spans
    // of `buf` between the changes, so one piece per change rather than per event part. `copyFrom` is the first byte
    // of `buf` not yet sent or skipped.
    this.copyFrom = 0;
    let start = 0;
    // The kept part was searched already (no CR, no blank line in it): only the new bytes, and a `\n` just before them.
    for (let end = buf.indexOf(BLANK_LINE, Math.max(0, kept - 1)); end !== -1; end = buf.indexOf(BLANK_LINE, start)) {
      this.event(buf, start, end, out);
      start = end + 2;
    }
    if (start > this.copyFrom) out.push(buf.subarray(this.copyFrom, start));
    if (start < buf.length) this.keep(buf.subarray(start));
  }

  /** Byte path: holds the start of an event until its blank line comes; fails the stream past MAX_SSE_EVENT_BYTES. */
  private keep(bytes: Buffer): void {
    this.kept.push(bytes);
    this.keptBytes += bytes.length;
    if (this.keptBytes > MAX_SSE_EVENT_BYTES) throw eventTooLarge();
  }

  private keptEndsWithLF(): boolean {
    const last = this.kept[this.kept.length - 1]!;
    return last[last.length - 1] === LF;
  }

  /** The kept reads followed by `read`, in one buffer; nothing is kept after. */
  private takeKept(read: Buffer | null): Buffer {
    if (read !== null) this.kept.push(read);
    const all = joinBytes(this.kept);
    this.kept.length = 0;
    this.keptBytes = 0;
    return all;
  }

  /** One event, `buf[start, end)` without its blank line: its changes join `out`, or it is skipped or replaced. */
  private event(buf: Buffer, start: number, end: number, out: Uint8Array[]): void {
    const ev = buf.subarray(start, end);
    const c = end > start ? plainChunk(ev, this.prefix) : null;
    // A usage chunk that also carries choices, when the client did not ask for usage: the usage must be taken out.
    if (c === null || (c.usage !== null && !this.includeUsage && c.hasChoices)) {
      this.skip(buf, start, end, out);
      if (end === start) return; // a blank line too many
      if (ev.equals(DONE_EVENT)) this.done = true;
      else for (const e of this.oneEvent.push(`${ev.toString('utf8')}\n\n`)) this.send(e, out);
      return;
    }
    this.bytes += c.contentBytes;
    if (c.usage !== null) {
      this.seenUsage = { inputTokens: c.usage.promptTokens, outputTokens: c.usage.completionTokens, estimated: false };
      // Asked for upstream on the client's behalf: it goes no further.
      if (!this.includeUsage) return this.skip(buf, start, end, out);
    }
    out.push(buf.subarray(this.copyFrom, start + c.modelFrom), this.modelBytes);
    this.copyFrom = start + c.modelTo;
    if (c.usageNullAt !== -1 && !this.includeUsage) {
      out.push(buf.subarray(this.copyFrom, start + c.usageNullAt));
      this.copyFrom = start + c.usageNullAt + USAGE_NULL_BYTES;
    }
  }

  /** Sends what precedes the event at `buf[start, end)` and leaves the event and its blank line out. */
  private skip(buf: Buffer, start: number, end: number, out: Uint8Array[]): void {
    if (start > this.copyFrom) out.push(buf.subarray(this.copyFrom, start));
    this.copyFrom = end + 2;
  }

  private pushText(bytes: Uint8Array | null, out: Uint8Array[]): void {
    for (const e of bytes === null ? this.text!.end() : this.text!.push(bytes)) this.send(e, out);
  }

  private send(event: SseEvent, out: Uint8Array[]): void {
    for (const chunk of this.push(event)) out.push(Buffer.from(sseData(chunk)));
  }

  push(event: SseEvent): string[] {
    if (event.data === '[DONE]') {
      this.done = true;
      return [];
    }
    const chunk = JSON.parse(event.data) as Record<string, unknown> & { choices?: unknown[]; usage?: OpenAIUsage | null; error?: { message?: string; type?: string } };
    if (chunk.error !== undefined) throw new UpstreamStreamError(chunk.error.message ?? 'upstream stream error', chunk.error.type);
    const usage = toUsage(chunk.usage);
    if (usage !== null) this.seenUsage = usage;
    this.bytes += deltaBytes(chunk as never);
    if (!this.includeUsage && usage !== null && (chunk.choices === undefined || chunk.choices.length === 0)) return [];
    const fast = this.rewrite(event.data, chunk);
    if (fast !== null) return [fast];
    chunk.model = this.info.model;
    // We asked upstream for usage on the client's behalf; hide it again.
    if (!this.includeUsage) delete chunk.usage;
    return [JSON.stringify(chunk)];
  }

  /**
   * The upstream text with only the model name (and a trailing `"usage":null` the client did not ask for)
   * changed, instead of re-serialising the parsed chunk: the same JSON for the client at a fraction of the
   * cost per chunk. Null when the text is not in the plain shape every OpenAI-compatible server sends
   * (`{"id":…,"model":"…",…}` with nothing nested or escaped before the model), which takes the slow path.
   */
  private rewrite(text: string, chunk: { model?: unknown; usage?: unknown }): string | null {
    if (typeof chunk.model !== 'string') return null;
    let body = text;
    if (!this.includeUsage && chunk.usage !== undefined) {
      // Only a top-level `"usage":null` as the last member can be cut without parsing.
      if (chunk.usage !== null || !body.endsWith(',"usage":null}')) return null;
      body = body.slice(0, -14) + '}';
    }
    const key = body.indexOf('"model":"');
    if (key === -1 || body.charCodeAt(0) !== 123) return null;
    // Nothing opened or escaped before the key, so it is the top-level member JSON.parse read.
    for (let i = 1; i < key; i++) {
      const c = body.charCodeAt(i);
      if (c === 123 || c === 91 || c === 92) return null; // { [ \
    }
    const from = key + 9;
    const to = body.indexOf('"', from);
    if (to === -1 || body.slice(from, to) !== chunk.model || body.indexOf('"model":', to) !== -1) return null;
    return body.slice(0, from) + this.modelText + body.slice(to);
  }
  end(): string[] {
    return [];
  }
  usage(): Usage | null {
    return this.seenUsage;
  }
  outputBytes(): number {
    return this.bytes;
  }
  completed(): boolean {
    return this.done;
  }
}

/** A provider for any server speaking the OpenAI Chat Completions wire format. */
export function openAICompatible(options: OpenAICompatibleOptions): Provider {
  const o = openAICompatibleOptionsSchema.parse(options);
  const url = `${o.baseURL.replace(/\/+$/, '')}/chat/completions`;
  const headers = Object.freeze({ ...o.headers, 'content-type': 'application/json', authorization: `Bearer ${o.apiKey}` });
  return {
    name: o.name,
    buildRequest(req: ChatRequest, model: ModelEntry, stream: boolean): UpstreamRequest {
      const body: Record<string, unknown> = { ...req, model: model.upstreamModel, stream };
      // Always ask for usage on streams: it is what the gateway bills from.
      if (stream) body.stream_options = { ...(req.stream_options ?? {}), include_usage: true };
      else delete body.stream_options;
      return { url, headers, body: JSON.stringify(body) };
    },
    parseResponse(body: unknown, info: ExchangeInfo): MappedResponse {
      const completion = body as ChatCompletion;
      completion.model = info.model;
      return { completion, usage: toUsage(completion.usage) };
    },
    streamTranslator: (info, includeUsage) => new OpenAIStreamTranslator(info, includeUsage),
    errorMessage(status: number, text: string): string {
      try {
        const parsed = JSON.parse(text) as { error?: { message?: string } | string; message?: string };
        const e = parsed.error;
        const msg = typeof e === 'string' ? e : e?.message ?? parsed.message;
        if (typeof msg === 'string' && msg !== '') return msg;
      } catch {
        // not JSON: fall through to a generic message rather than echo an HTML page
      }
      return `upstream answered HTTP ${status}`;
    },
  };
}

/** OpenAI itself. Default base URL `https://api.openai.com/v1`, provider name `openai`. */
export function openai(options: Omit<OpenAICompatibleOptions, 'name'> & { name?: string }): Provider {
  return openAICompatible({ name: 'openai', ...options });
}
