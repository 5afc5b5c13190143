// A local stand-in for Anthropic's Messages API: its JSON and SSE event sequence, error bodies, and fault switches.
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { listen, readText } from './http.js';

export interface AnthropicReply {
  content: string;
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  toolCalls?: Array<{ id: string; name: string; input: Record<string, unknown> }>;
  /** Stream the text in this many `text_delta` events. */
  chunks: number;
  stopReason: 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use';
}

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, any>;
}

/** The text the stand-in answers with by default. */
export const ANTHROPIC_REPLY = 'Bonjour from the Claude stand-in, all good.';

/** Anthropic's error `type` for each HTTP status, as its API reference lists them. */
const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

export const anthropicError = (type: string, message: string) => ({ type: 'error', error: { type, message } });

const defaults = (): AnthropicReply => ({
  content: ANTHROPIC_REPLY, inputTokens: 25, outputTokens: 11, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, chunks: 4, stopReason: 'end_turn',
});

export async function startAnthropicStandin(opts: { apiKey?: string } = {}) {
  const apiKey = opts.apiKey ?? 'sk-ant-standin';
  const state = {
    reply: defaults(),
    faults: [] as Array<{ status: number; body?: unknown }>,
    /** Delay before headers, ms. */
    delayMs: 0,
    /** Delay between stream events, ms. */
    chunkDelayMs: 0,
    /** Cut the socket after this many text deltas (streams only). */
    cutAfterChunks: null as number | null,
    /** Send an `error` event (overloaded_error) after this many text deltas. */
    errorAfterChunks: null as number | null,
    requests: [] as ReceivedRequest[],
    aborted: 0,
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_standin${state.requests.length}` });
    res.end(JSON.stringify(body));
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  const server = await listen(async (req, res) => {
    const text = await readText(req);
    if (req.method !== 'POST' || req.url !== '/v1/messages') {
      return send(res, 404, anthropicError('not_found_error', 'Not Found'));
    }
    let finished = false;
    res.on('close', () => {
      if (!finished) state.aborted += 1;
    });
    const body = JSON.parse(text) as Record<string, any>;
    state.requests.push({ path: req.url, headers: req.headers, body });
    const reject = (status: number, type: string, message: string) => {
      finished = true;
      send(res, status, anthropicError(type, message));
    };
    if (req.headers['x-api-key'] !== apiKey) return reject(401, 'authentication_error', 'invalid x-api-key');
    if (req.headers['anthropic-version'] === undefined) return reject(400, 'invalid_request_error', 'anthropic-version: header is required');
    // The checks the real API makes that a mapping bug would trip.
    if (typeof body.max_tokens !== 'number') return reject(400, 'invalid_request_error', 'max_tokens: Field required');
    if (!Array.isArray(body.messages) || body.messages.length === 0) return reject(400, 'invalid_request_error', 'messages: Field required');
    if (body.messages.some((m: { role: string }) => m.role !== 'user' && m.role !== 'assistant')) {
      return reject(400, 'invalid_request_error', 'messages: Unexpected role. Allowed roles are "user" or "assistant".');
    }
    const fault = state.faults.shift();
    if (fault !== undefined) {
      finished = true;
      return send(res, fault.status, fault.body ?? anthropicError(ERROR_TYPES[fault.status] ?? 'api_error', fault.status === 529 ? 'Overloaded' : `stand-in fault ${fault.status}`));
    }
    if (state.delayMs > 0) await sleep(state.delayMs);

    const r = state.reply;
    const id = `msg_standin${state.requests.length}`;
    const usage = {
      input_tokens: r.inputTokens,
      cache_creation_input_tokens: r.cacheCreationInputTokens,
      cache_read_input_tokens: r.cacheReadInputTokens,
      output_tokens: r.outputTokens,
    };
    const tools = r.toolCalls ?? [];
    const stopReason = tools.length > 0 ? 'tool_use' : r.stopReason;

    if (body.stream !== true) {
      finished = true;
      return send(res, 200, {
        id, type: 'message', role: 'assistant', model: body.model,
        content: [
          ...(r.content !== '' ? [{ type: 'text', text: r.content }] : []),
          ...tools.map((t) => ({ type: 'tool_use', id: t.id, name: t.name, input: t.input })),
        ],
        stop_reason: stopReason, stop_sequence: null, usage,
      });
    }

    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': `req_standin${state.requests.length}` });
    const event = (data: Record<string, unknown>) => `event: ${String(data.type)}\ndata: ${JSON.stringify(data)}\n\n`;
    res.write(event({
      type: 'message_start',
      message: { id, type: 'message', role: 'assistant', model: body.model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } },
    }));
    let block = 0;
    if (r.content !== '') {
      res.write(event({ type: 'content_block_start', index: block, content_block: { type: 'text', text: '' } }));
      res.write(event({ type: 'ping' }));
      const size = Math.ceil(r.content.length / r.chunks);
      for (let i = 0, n = 0; i < r.content.length; i += size, n++) {
        if (state.cutAfterChunks !== null && n === state.cutAfterChunks) {
          // Let what was written reach the gateway first, then drop the connection mid-message.
          await new Promise<void>((r) => res.write('', () => r()));
          await sleep(20);
          res.socket?.destroy();
          return;
        }
        if (state.errorAfterChunks !== null && n === state.errorAfterChunks) {
          res.write(event(anthropicError('overloaded_error', 'Overloaded')));
          finished = true;
          res.end();
          return;
        }
        if (state.chunkDelayMs > 0) await sleep(state.chunkDelayMs);
        if (res.destroyed) return;
        res.write(event({ type: 'content_block_delta', index: block, delta: { type: 'text_delta', text: r.content.slice(i, i + size) } }));
      }
      res.write(event({ type: 'content_block_stop', index: block }));
      block += 1;
    }
    for (const t of tools) {
      res.write(event({ type: 'content_block_start', index: block, content_block: { type: 'tool_use', id: t.id, name: t.name, input: {} } }));
      const json = JSON.stringify(t.input);
      const half = Math.floor(json.length / 2);
      res.write(event({ type: 'content_block_delta', index: block, delta: { type: 'input_json_delta', partial_json: '' } }));
      res.write(event({ type: 'content_block_delta', index: block, delta: { type: 'input_json_delta', partial_json: json.slice(0, half) } }));
      res.write(event({ type: 'content_block_delta', index: block, delta: { type: 'input_json_delta', partial_json: json.slice(half) } }));
      res.write(event({ type: 'content_block_stop', index: block }));
      block += 1;
    }
    res.write(event({ type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: r.outputTokens } }));
    res.write(event({ type: 'message_stop' }));
    finished = true;
    res.end();
  });

  return {
    ...server,
    /** Host as ANTHROPIC_BASE_URL takes it (the provider adds `/v1/messages`). */
    baseURL: server.url,
    apiKey,
    state,
    /** Fail the next request(s) with a status and Anthropic's error body for it. */
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
      state.requests = [];
      state.aborted = 0;
    },
  };
}

export type AnthropicStandin = Awaited<ReturnType<typeof startAnthropicStandin>>;
