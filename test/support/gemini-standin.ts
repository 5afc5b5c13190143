// A local stand-in for Google's Gemini generateContent API: its JSON, `\r\n\r\n`-separated SSE, error bodies, and fault switches.
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { listen, readText } from './http.js';

export interface GeminiReply {
  content: string;
  promptTokens: number;
  candidatesTokens: number;
  /** Thinking tokens; billed as output. 0 leaves thoughtsTokenCount out, as for non-thinking models. */
  thoughtsTokens: number;
  functionCalls?: Array<{ name: string; args: Record<string, unknown> }>;
  /** Stream the text in this many chunks. */
  chunks: number;
  finishReason: string;
}

export interface ReceivedRequest {
  /** Path with the query, e.g. `/v1beta/models/gemini-2.0-flash-lite:streamGenerateContent?alt=sse`. */
  url: string;
  model: string;
  method: 'generateContent' | 'streamGenerateContent';
  headers: IncomingHttpHeaders;
  body: Record<string, any>;
}

/** The text the stand-in answers with by default. */
export const GEMINI_REPLY = 'Hi from the Gemini stand-in, cheap and cheerful.';

/** The canonical Google status name for each HTTP status. */
const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED',
};
const MESSAGES: Record<number, string> = {
  429: 'Resource has been exhausted (e.g. check quota).',
  500: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  503: 'The model is overloaded. Please try again later.',
};

export const googleError = (code: number, message: string, extra: Record<string, unknown> = {}) => ({
  error: { code, message, status: STATUS_NAMES[code] ?? 'UNKNOWN', ...extra },
});

/** What Gemini answers to a wrong API key: a 400, not a 401. */
export const apiKeyInvalid = () =>
  googleError(400, 'API key not valid. Please pass a valid API key.', {
    details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } }],
  });

const defaults = (): GeminiReply => ({ content: GEMINI_REPLY, promptTokens: 14, candidatesTokens: 10, thoughtsTokens: 0, chunks: 3, finishReason: 'STOP' });

export async function startGeminiStandin(opts: { apiKey?: string } = {}) {
  const apiKey = opts.apiKey ?? 'AIza-standin';
  const state = {
    reply: defaults(),
    faults: [] as Array<{ status: number; body?: unknown }>,
    delayMs: 0,
    chunkDelayMs: 0,
    /** Cut the socket after this many text chunks (streams only). */
    cutAfterChunks: null as number | null,
    /** Send an `{"error":…}` event after this many text chunks. */
    errorAfterChunks: null as number | null,
    /** Send the final usageMetadata in a chunk of its own after the finishReason chunk. */
    usageOnlyLastChunk: false,
    requests: [] as ReceivedRequest[],
    aborted: 0,
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(JSON.stringify(body));
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  const server = await listen(async (req, res) => {
    const text = await readText(req);
    const m = /^\/v1beta\/models\/([^/:?]+):(generateContent|streamGenerateContent)(\?.*)?$/.exec(req.url ?? '');
    if (req.method !== 'POST' || m === null) return send(res, 404, googleError(404, `Unknown path ${req.url}`));
    const method = m[2] as ReceivedRequest['method'];
    const sse = method === 'streamGenerateContent' && new URLSearchParams(m[3]?.slice(1) ?? '').get('alt') === 'sse';
    let finished = false;
    res.on('close', () => {
      if (!finished) state.aborted += 1;
    });
    const body = JSON.parse(text) as Record<string, any>;
    state.requests.push({ url: req.url!, model: decodeURIComponent(m[1]!), method, headers: req.headers, body });
    const reject = (status: number, payload: unknown) => {
      finished = true;
      send(res, status, payload);
    };
    if (req.headers['x-goog-api-key'] === undefined) {
      return reject(403, googleError(403, "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."));
    }
    if (req.headers['x-goog-api-key'] !== apiKey) return reject(400, apiKeyInvalid());
    if (!Array.isArray(body.contents) || body.contents.length === 0) return reject(400, googleError(400, '* GenerateContentRequest.contents: contents is not specified'));
    if (body.contents.some((c: { role?: string }) => c.role !== 'user' && c.role !== 'model')) {
      return reject(400, googleError(400, 'Please use a valid role: user, model.'));
    }
    const fault = state.faults.shift();
    if (fault !== undefined) return reject(fault.status, fault.body ?? googleError(fault.status, MESSAGES[fault.status] ?? `stand-in fault ${fault.status}`));
    if (state.delayMs > 0) await sleep(state.delayMs);

    const r = state.reply;
    const responseId = `standin${state.requests.length}`;
    const modelVersion = `${decodeURIComponent(m[1]!)}-002`;
    const usageMetadata = (candidates: number | undefined) => ({
      promptTokenCount: r.promptTokens,
      ...(candidates !== undefined ? { candidatesTokenCount: candidates } : {}),
      totalTokenCount: r.promptTokens + (candidates ?? 0) + (candidates !== undefined ? r.thoughtsTokens : 0),
      ...(r.thoughtsTokens > 0 && candidates !== undefined ? { thoughtsTokenCount: r.thoughtsTokens } : {}),
    });
    const calls = r.functionCalls ?? [];
    const candidate = (parts: unknown[], finishReason?: string) => ({
      content: { parts, role: 'model' },
      ...(finishReason !== undefined ? { finishReason } : {}),
      index: 0,
    });

    if (method === 'generateContent') {
      finished = true;
      const parts = [...(r.content !== '' && calls.length === 0 ? [{ text: r.content }] : []), ...calls.map((c) => ({ functionCall: { name: c.name, args: c.args } }))];
      return send(res, 200, { candidates: [candidate(parts, r.finishReason)], usageMetadata: usageMetadata(r.candidatesTokens), modelVersion, responseId });
    }
    if (!sse) return reject(400, googleError(400, 'This stand-in speaks only alt=sse streams.'));

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    // Gemini separates events with CRLF CRLF and sends no [DONE].
    const event = (data: unknown) => `data: ${JSON.stringify(data)}\r\n\r\n`;
    if (calls.length > 0) {
      res.write(event({ candidates: [candidate(calls.map((c) => ({ functionCall: { name: c.name, args: c.args } })), r.finishReason)], usageMetadata: usageMetadata(r.candidatesTokens), modelVersion, responseId }));
      finished = true;
      res.end();
      return;
    }
    const size = Math.ceil(r.content.length / r.chunks);
    const pieces: string[] = [];
    for (let i = 0; i < r.content.length; i += size) pieces.push(r.content.slice(i, i + size));
    for (let n = 0; n < pieces.length; n++) {
      if (state.cutAfterChunks !== null && n === state.cutAfterChunks) {
        // Let what was written reach the gateway first, then drop the connection mid-stream.
        await new Promise<void>((r) => res.write('', () => r()));
        await sleep(20);
        res.socket?.destroy();
        return;
      }
      if (state.errorAfterChunks !== null && n === state.errorAfterChunks) {
        res.write(event(googleError(503, MESSAGES[503]!)));
        finished = true;
        res.end();
        return;
      }
      if (state.chunkDelayMs > 0) await sleep(state.chunkDelayMs);
      if (res.destroyed) return;
      const last = n === pieces.length - 1;
      // Early chunks carry running counts; the final one the whole usage (or a usage-only chunk follows).
      const running = last && !state.usageOnlyLastChunk ? r.candidatesTokens : Math.max(1, Math.floor((r.candidatesTokens * (n + 1)) / pieces.length) - 1);
      res.write(event({ candidates: [candidate([{ text: pieces[n] }], last ? r.finishReason : undefined)], usageMetadata: usageMetadata(running), modelVersion, responseId }));
    }
    if (state.usageOnlyLastChunk) res.write(event({ usageMetadata: usageMetadata(r.candidatesTokens), modelVersion, responseId }));
    finished = true;
    res.end();
  });

  return {
    ...server,
    /** Host as GEMINI_BASE_URL takes it (the provider adds `/v1beta/models/…`). */
    baseURL: server.url,
    apiKey,
    state,
    /** Fail the next request(s) with a status and Google's error body for it. */
    fail(status: number, times = 1, body?: unknown) {
      for (let i = 0; i < times; i++) state.faults.push({ status, body });
    },
    reset() {
      state.reply = defaults();
      state.faults = [];
      state.delayMs = 0;
      state.chunkDelayMs = 0;
      state.cutAfterChunks = null;
      state.errorAfterChunks = null;
      state.usageOnlyLastChunk = false;
      state.requests = [];
      state.aborted = 0;
    },
  };
}

export type GeminiStandin = Awaited<ReturnType<typeof startGeminiStandin>>;
