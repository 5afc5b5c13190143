// A local stand-in for OpenAI's Chat Completions API: real JSON and SSE wire format, errors, and fault switches.
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { listen, readText } from './http.js';

export interface StandinReply {
  content: string;
  promptTokens: number;
  completionTokens: number;
  toolCalls?: Array<{ id: string; name: string; arguments: string }>;
  /** Stream the content in this many pieces. */
  chunks: number;
}

export interface Fault {
  status: number;
  body?: unknown;
  /** Answer after this delay instead of at once. */
  delayMs?: number;
}

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** The text a stand-in answers with by default. */
export const DEFAULT_REPLY = 'Hello from the stand-in. Everything is fine.';

export async function startOpenAIStandin(opts: { apiKey?: string } = {}) {
  const apiKey = opts.apiKey ?? 'sk-standin';
  const state = {
    reply: { content: DEFAULT_REPLY, promptTokens: 12, completionTokens: 9, chunks: 4 } as StandinReply,
    faults: [] as Fault[],
    /** Delay before headers, ms. */
    delayMs: 0,
    /** Delay between stream chunks, ms. */
    chunkDelayMs: 0,
    /** Cut the socket after this many content chunks (streams only). */
    cutAfterChunks: null as number | null,
    /** Send an in-stream error event after this many content chunks. */
    errorAfterChunks: null as number | null,
    /** Omit the usage chunk even when asked (some compatible servers do). */
    omitUsage: false,
    requests: [] as ReceivedRequest[],
    /** Upstream requests that were aborted by the gateway before they finished. */
    aborted: 0,
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  const server = await listen(async (req, res) => {
    const text = await readText(req);
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      return send(res, 404, { error: { message: `Unknown path ${req.url}`, type: 'invalid_request_error', param: null, code: 'unknown_url' } });
    }
    let finished = false;
    res.on('close', () => {
      if (!finished) state.aborted += 1;
    });
    const body = JSON.parse(text) as Record<string, unknown>;
    state.requests.push({ path: req.url, headers: req.headers, body });
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      finished = true;
      return send(res, 401, { error: { message: 'Incorrect API key provided: sk-***.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
    }
    const fault = state.faults.shift();
    if (fault !== undefined) {
      if (fault.delayMs) await sleep(fault.delayMs);
      finished = true;
      return send(res, fault.status, fault.body ?? { error: { message: `stand-in fault ${fault.status}`, type: 'server_error', param: null, code: null } });
    }
    if (state.delayMs > 0) await sleep(state.delayMs);
    const r = state.reply;
    const id = `chatcmpl-standin${state.requests.length}`;
    const created = 1_750_000_000;
    const model = `${String(body.model)}-2024-07-18`;
    const usage = { prompt_tokens: r.promptTokens, completion_tokens: r.completionTokens, total_tokens: r.promptTokens + r.completionTokens };
    const toolCalls = r.toolCalls?.map((t) => ({ id: t.id, type: 'function', function: { name: t.name, arguments: t.arguments } }));

    if (body.stream !== true) {
      finished = true;
      return send(res, 200, {
        id, object: 'chat.completion', created, model,
        choices: [{
          index: 0,
          message: { role: 'assistant', content: toolCalls ? null : r.content, refusal: null, ...(toolCalls ? { tool_calls: toolCalls } : {}) },
          logprobs: null,
          finish_reason: toolCalls ? 'tool_calls' : 'stop',
        }],
        usage,
        system_fingerprint: 'fp_standin',
      });
    }

    const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    const chunk = (delta: unknown, finish: string | null, extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_standin', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...(includeUsage ? { usage: null } : {}), ...extra })}\n\n`;
    res.write(chunk({ role: 'assistant', content: '', refusal: null }, null));
    const pieces: string[] = [];
    const size = Math.ceil(r.content.length / r.chunks);
    for (let i = 0; i < r.content.length; i += size) pieces.push(r.content.slice(i, i + size));
    if (toolCalls) {
      toolCalls.forEach((t, index) => {
        res.write(chunk({ tool_calls: [{ index, id: t.id, type: 'function', function: { name: t.function.name, arguments: '' } }] }, null));
        res.write(chunk({ tool_calls: [{ index, function: { arguments: t.function.arguments } }] }, null));
      });
    } else {
      for (let i = 0; i < pieces.length; i++) {
        if (state.cutAfterChunks !== null && i === state.cutAfterChunks) {
          await sleep(20); // let what was written reach the gateway first
          res.socket?.destroy();
          return;
        }
        if (state.errorAfterChunks !== null && i === state.errorAfterChunks) {
          res.write(`data: ${JSON.stringify({ error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } })}\n\n`);
          finished = true;
          res.end();
          return;
        }
        if (state.chunkDelayMs > 0) await sleep(state.chunkDelayMs);
        if (res.destroyed) return;
        res.write(chunk({ content: pieces[i] }, null));
      }
    }
    res.write(chunk({}, toolCalls ? 'tool_calls' : 'stop'));
    if (includeUsage && !state.omitUsage) {
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_standin', choices: [], usage })}\n\n`);
    }
    res.write('data: [DONE]\n\n');
    finished = true;
    res.end();
  });

  return {
    ...server,
    /** Base URL as the OpenAI SDK and OPENAI_BASE_URL take it. */
    baseURL: `${server.url}/v1`,
    apiKey,
    state,
    /** Fail the next request(s) with a status. */
    fail(status: number, times = 1, body?: unknown) {
      for (let i = 0; i < times; i++) state.faults.push({ status, body });
    },
    reset() {
      state.reply = { content: DEFAULT_REPLY, promptTokens: 12, completionTokens: 9, chunks: 4 };
      state.faults = [];
      state.delayMs = 0;
      state.chunkDelayMs = 0;
      state.cutAfterChunks = null;
      state.errorAfterChunks = null;
      state.omitUsage = false;
      state.requests = [];
      state.aborted = 0;
    },
  };
}

export type OpenAIStandin = Awaited<ReturnType<typeof startOpenAIStandin>>;
