// Google's Gemini generateContent API as a provider: options parsed once, mapping in request/response/stream.
import { z } from 'zod';
import type { Provider, UpstreamRequest } from '../types.js';
import { toGeminiRequest } from './request.js';
import { fromGeminiResponse, type GeminiResponse } from './response.js';
import { GeminiStreamTranslator } from './stream.js';

/** Options of `google()`, validated once when the provider is built. */
export const googleOptionsSchema = z.object({
  apiKey: z.string().min(1),
  /** Host the versioned path is added to, as GEMINI_BASE_URL. Default `https://generativelanguage.googleapis.com`. */
  baseURL: z.url().default('https://generativelanguage.googleapis.com'),
  /** Provider name used in model ids (`name/model`). Default `google`. */
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/).default('google'),
  /** Extra headers sent on every upstream request. Default none. */
  headers: z.record(z.string(), z.string()).default({}),
});
/** What `google()` takes: `apiKey` is required, everything else has the default written above. */
export type GoogleOptions = z.input<typeof googleOptionsSchema>;

interface GoogleErrorBody {
  error?: { code?: number; message?: string; status?: string; details?: Array<{ reason?: string }> };
}

/** Google error bodies are `{"error":{…}}`, or a one-element array of that from the non-SSE stream endpoint. */
function parseError(text: string): GoogleErrorBody['error'] | undefined {
  try {
    const parsed = JSON.parse(text) as GoogleErrorBody | GoogleErrorBody[];
    return (Array.isArray(parsed) ? parsed[0] : parsed)?.error;
  } catch {
    return undefined; // not JSON: do not echo it
  }
}

/** The message in a Google error body, or a generic one. */
export function googleErrorMessage(status: number, text: string): string {
  const msg = parseError(text)?.message;
  return typeof msg === 'string' && msg !== '' ? msg : `upstream answered HTTP ${status}`;
}

/**
 * Gemini refuses a wrong or expired API key with 400 INVALID_ARGUMENT (reason API_KEY_INVALID / API_KEY_EXPIRED),
 * not 401: report it as 401 so the gateway treats it as its own credential fault, not the client's request.
 */
export function googleErrorStatus(status: number, text: string): number {
  if (status !== 400) return status;
  const reasons = parseError(text)?.details?.map((d) => d.reason) ?? [];
  return reasons.some((r) => r === 'API_KEY_INVALID' || r === 'API_KEY_EXPIRED') ? 401 : status;
}

/** Google's Gemini API (AI Studio keys). Defaults: base URL `https://generativelanguage.googleapis.com`, name `google`. */
export function google(options: GoogleOptions): Provider {
  const o = googleOptionsSchema.parse(options);
  const base = `${o.baseURL.replace(/\/+$/, '')}/v1beta/models/`;
  const headers = Object.freeze({ ...o.headers, 'content-type': 'application/json', 'x-goog-api-key': o.apiKey });
  return {
    name: o.name,
    buildRequest(req, model, stream): UpstreamRequest {
      const method = stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
      return { url: `${base}${encodeURIComponent(model.upstreamModel)}:${method}`, headers, body: JSON.stringify(toGeminiRequest(req, model)) };
    },
    parseResponse: (body, info) => fromGeminiResponse(body as GeminiResponse, info),
    streamTranslator: (info, includeUsage) => new GeminiStreamTranslator(info, includeUsage),
    errorMessage: googleErrorMessage,
    errorStatus: googleErrorStatus,
  };
}
