// The Anthropic Messages API as a provider: options parsed once, mapping in request/response/stream.
import { z } from 'zod';
import type { Provider, UpstreamRequest } from '../types.js';
import { toAnthropicRequest } from './request.js';
import { fromAnthropicResponse, type AnthropicMessageResponse } from './response.js';
import { AnthropicStreamTranslator } from './stream.js';

/** Options of `anthropic()`, validated once when the provider is built. */
export const anthropicOptionsSchema = z.object({
  apiKey: z.string().min(1),
  /** Host the versioned path is added to, as ANTHROPIC_BASE_URL. Default `https://api.anthropic.com`. */
  baseURL: z.url().default('https://api.anthropic.com'),
  /** The `anthropic-version` header. Default `2023-06-01`. */
  version: z.string().min(1).default('2023-06-01'),
  /** Provider name used in model ids (`name/model`). Default `anthropic`. */
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/).default('anthropic'),
  /** Extra headers sent on every upstream request (e.g. `anthropic-beta`). Default none. */
  headers: z.record(z.string(), z.string()).default({}),
});
/** What `anthropic()` takes: `apiKey` is required, everything else has the default written above. */
export type AnthropicOptions = z.input<typeof anthropicOptionsSchema>;

/** The message in an Anthropic error body `{"type":"error","error":{"type","message"}}`, or a generic one. */
export function anthropicErrorMessage(status: number, text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } };
    const msg = parsed.error?.message;
    if (typeof msg === 'string' && msg !== '') return msg;
  } catch {
    // not JSON (a proxy's HTML page): do not echo it
  }
  return `upstream answered HTTP ${status}`;
}

/** Anthropic's Messages API. Defaults: base URL `https://api.anthropic.com`, version `2023-06-01`, name `anthropic`. */
export function anthropic(options: AnthropicOptions): Provider {
  const o = anthropicOptionsSchema.parse(options);
  const url = `${o.baseURL.replace(/\/+$/, '')}/v1/messages`;
  const headers = Object.freeze({
    ...o.headers,
    'content-type': 'application/json',
    'x-api-key': o.apiKey,
    'anthropic-version': o.version,
  });
  return {
    name: o.name,
    buildRequest(req, model, stream): UpstreamRequest {
      return { url, headers, body: JSON.stringify(toAnthropicRequest(req, model, stream)) };
    },
    parseResponse: (body, info) => fromAnthropicResponse(body as AnthropicMessageResponse, info),
    streamTranslator: (info, includeUsage) => new AnthropicStreamTranslator(info, includeUsage),
    errorMessage: anthropicErrorMessage,
  };
}
