// What a provider is: data plus small pure functions that map OpenAI-shaped requests to its wire format and back.
import type { ModelEntry } from '../core/catalog.js';
import type { Usage } from '../core/cost.js';
import type { ChatRequest } from '../core/request.js';
import type { SseEvent } from '../stream/sse.js';

/** One HTTP request to send upstream. Always a POST of JSON. */
export interface UpstreamRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** What the gateway knows about the exchange when mapping a response. */
export interface ExchangeInfo {
  /** Response id to use when the provider's is not OpenAI-shaped (`chatcmpl-…`). */
  id: string;
  /** Unix seconds. */
  created: number;
  /** The public catalog id the body's `model` must carry. */
  model: string;
}

/** An OpenAI `chat.completion` object as sent to the client. */
export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: {
      role: 'assistant';
      content: string | null;
      tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>;
      refusal?: string | null;
      [k: string]: unknown;
    };
    finish_reason: string | null;
    logprobs?: unknown;
    [k: string]: unknown;
  }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number; [k: string]: unknown };
  [k: string]: unknown;
}

/** A mapped non-streaming response. `usage` is null when the provider reported none. */
export interface MappedResponse {
  completion: ChatCompletion;
  usage: Usage | null;
}

/** Raised by a translator when the upstream stream reports an error mid-way. */
export class UpstreamStreamError extends Error {
  constructor(message: string, readonly providerType: string = 'upstream_error') {
    super(message);
    this.name = 'UpstreamStreamError';
  }
}

/**
 * Watches one upstream stream pass and turns its events into OpenAI `chat.completion.chunk` JSON texts.
 * Created per request; holds the little state a mapping needs (usage so far, open tool calls).
 */
export interface StreamTranslator {
  /** One upstream event in; zero or more chunk JSON texts out, in order. Throws UpstreamStreamError on an error event. */
  push(event: SseEvent): string[];
  /** The upstream ended; any last chunks (e.g. the usage chunk when the client asked for it). */
  end(): string[];
  /** Usage the provider reported so far, or null. */
  usage(): Usage | null;
  /** UTF-8 bytes of generated text and tool arguments seen, to estimate output when no usage came. */
  outputBytes(): number;
  /** True once the upstream signalled a normal end (`[DONE]`, `message_stop`, a final finish reason). */
  completed(): boolean;
  /**
   * Optional byte path, for an upstream that already speaks the client's SSE framing: appends to `out` the client's
   * bytes for every complete event in `bytes` (what `push` would send, `[DONE]` left to the relay as there), keeping
   * a partial event for the next call; `null` at the end flushes it. When present, the relay uses it instead of
   * decoding the stream to text and calling `push`. Throws as `push` does.
   */
  pushBytes?(bytes: Uint8Array | null, out: Uint8Array[]): void;
}

/** A configured provider. No framework types, no I/O: the gateway does the sending. */
export interface Provider {
  /** Name used in catalog entries (`provider/…`), headers and usage records. */
  readonly name: string;
  /** Builds the upstream request for one attempt. Pure. */
  buildRequest(req: ChatRequest, model: ModelEntry, stream: boolean): UpstreamRequest;
  /** Maps the provider's JSON answer to a `chat.completion`. */
  parseResponse(body: unknown, info: ExchangeInfo): MappedResponse;
  /** A translator for one streamed answer; `includeUsage` says whether the client asked for the usage chunk. */
  streamTranslator(info: ExchangeInfo, includeUsage: boolean): StreamTranslator;
  /** The human-readable message in one of the provider's error bodies (raw text, maybe not JSON). */
  errorMessage(status: number, body: string): string;
  /**
   * The status the gateway should act on for an error answer, when the provider signals a fault with another
   * one (Gemini answers a wrong API key with 400 API_KEY_INVALID). Optional; default the status as received.
   */
  errorStatus?(status: number, body: string): number;
}
