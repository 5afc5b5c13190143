// Token estimates computed once per request: an upper bound for reservations, a closer guess for routing.
import type { ModelEntry } from './catalog.js';
import { hasImages, requestedMaxTokens, usesTools, wantsJson, type ChatRequest } from './request.js';

/** Tokens a provider adds per message for role and framing; generous so the bound stays a bound. */
const MESSAGE_OVERHEAD_TOKENS = 8;
/** Tokens added once per request (reply priming, system framing). */
const REQUEST_OVERHEAD_TOKENS = 16;
/** Bytes per token assumed for the routing estimate; English BPE averages about 4, so 3 errs high. */
const ESTIMATE_BYTES_PER_TOKEN = 3;
/** Output assumed for price comparison when the request sets no ceiling. */
export const DEFAULT_EXPECTED_OUTPUT_TOKENS = 512;

/** What the router and the cap need to know about a request, measured once. */
export interface RequestFeatures {
  /** UTF-8 bytes of every text the model reads: contents, names, tool calls, tool definitions. */
  readonly textBytes: number;
  readonly messageCount: number;
  readonly imageCount: number;
  /** A close-to-real guess of input tokens, for eligibility and price comparison. */
  readonly estimatedInputTokens: number;
  /** The output ceiling the client set, if any. */
  readonly requestedOutputTokens: number | undefined;
  /** Completions asked for (`n`); output is paid once per choice. */
  readonly choices: number;
  readonly tools: boolean;
  readonly images: boolean;
  readonly json: boolean;
  readonly stream: boolean;
}

const byteLength = (s: string) => Buffer.byteLength(s, 'utf8');

/** Measures a request once; pure. */
export function requestFeatures(req: ChatRequest): RequestFeatures {
  let bytes = 0;
  let images = 0;
  for (const m of req.messages) {
    const c = m.content;
    if (typeof c === 'string') bytes += byteLength(c);
    else if (Array.isArray(c)) {
      for (const p of c) {
        if (p.type === 'text') bytes += byteLength((p as { text: string }).text);
        else if (p.type === 'image_url') images += 1;
        else bytes += byteLength(JSON.stringify(p));
      }
    }
    if (m.name !== undefined) bytes += byteLength(m.name);
    if (m.tool_calls !== undefined) {
      for (const t of m.tool_calls) bytes += byteLength(t.function.name) + byteLength(t.function.arguments) + byteLength(t.id);
    }
  }
  if (req.tools !== undefined && req.tools.length > 0) bytes += byteLength(JSON.stringify(req.tools));
  if (req.response_format?.type === 'json_schema') bytes += byteLength(JSON.stringify(req.response_format));
  const overhead = REQUEST_OVERHEAD_TOKENS + MESSAGE_OVERHEAD_TOKENS * req.messages.length;
  return {
    textBytes: bytes,
    messageCount: req.messages.length,
    imageCount: images,
    estimatedInputTokens: Math.ceil(bytes / ESTIMATE_BYTES_PER_TOKEN) + overhead + images * 765,
    requestedOutputTokens: requestedMaxTokens(req),
    choices: req.n ?? 1,
    tools: usesTools(req),
    images: images > 0 || hasImages(req),
    json: wantsJson(req),
    stream: req.stream === true,
  };
}

/**
 * An upper bound on input tokens for `model` whatever its tokenizer: every BPE token covers
 * at least one byte, so bytes plus framing bound the text; images count at the provider's maximum.
 */
export function inputTokenUpperBound(f: RequestFeatures, model: ModelEntry): number {
  return f.textBytes + REQUEST_OVERHEAD_TOKENS + MESSAGE_OVERHEAD_TOKENS * f.messageCount + f.imageCount * model.maxImageTokens;
}

/** The most output tokens `model` may produce for this request (all choices). */
export function outputTokenCeiling(f: RequestFeatures, model: ModelEntry): number {
  const perChoice = Math.min(f.requestedOutputTokens ?? model.maxOutputTokens, model.maxOutputTokens);
  return perChoice * f.choices;
}

/** Output tokens assumed when comparing prices. */
export function expectedOutputTokens(f: RequestFeatures, model: ModelEntry): number {
  return Math.min(f.requestedOutputTokens ?? DEFAULT_EXPECTED_OUTPUT_TOKENS, model.maxOutputTokens) * f.choices;
}

/** Estimates tokens in text seen on the wire (a cut stream's output) when the provider reported none. */
export function estimateTokensFromBytes(bytes: number): number {
  return Math.ceil(bytes / ESTIMATE_BYTES_PER_TOKEN);
}
