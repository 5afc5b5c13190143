// OpenAI Chat Completions request → Anthropic Messages request. Pure.
import type { ModelEntry } from '../../core/catalog.js';
import { invalidRequest } from '../../core/errors.js';
import type { ChatMessage, ChatRequest, ContentPart } from '../../core/request.js';
import { plainText } from '../shared.js';

export type AnthropicImageSource =
  | { type: 'base64'; media_type: string; data: string }
  | { type: 'url'; url: string };

export type AnthropicBlock =
  | { type: 'text'; text: string }
  | { type: 'image'; source: AnthropicImageSource }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> }
  | { type: 'tool_result'; tool_use_id: string; content: string | Array<{ type: 'text'; text: string }> };

export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: AnthropicBlock[];
}

export type AnthropicToolChoice =
  | { type: 'auto' | 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean }
  | { type: 'none' };

/** The body of `POST /v1/messages`, as far as the gateway fills it. */
export interface AnthropicRequest {
  model: string;
  max_tokens: number;
  messages: AnthropicMessage[];
  system?: string;
  stop_sequences?: string[];
  temperature?: number;
  top_p?: number;
  tools?: Array<{ name: string; description?: string; input_schema: Record<string, unknown> }>;
  tool_choice?: AnthropicToolChoice;
  metadata?: { user_id: string };
  stream?: true;
}

/** Anthropic's sampling temperature tops out at 1 where OpenAI's goes to 2; both mean "most random" at the top. */
const MAX_TEMPERATURE = 1;

/** Parses `data:<mime>;base64,<data>`; null for anything else. */
export function parseDataUrl(url: string): { mimeType: string; data: string } | null {
  const m = /^data:([^;,]+)((?:;[^;,]*)*?);base64,(.*)$/s.exec(url);
  return m === null ? null : { mimeType: m[1]!.toLowerCase(), data: m[3]! };
}

function imageBlock(url: string, param: string): AnthropicBlock {
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  const d = parseDataUrl(url);
  if (d === null) throw invalidRequest('Images must be http(s) URLs or base64 data: URLs.', param);
  return { type: 'image', source: { type: 'base64', media_type: d.mimeType, data: d.data } };
}

function userBlocks(content: ChatMessage['content'], param: string): AnthropicBlock[] {
  if (content == null) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  return content.flatMap((p: ContentPart, i): AnthropicBlock[] => {
    if (p.type === 'text') {
      const text = (p as { text: string }).text;
      return text === '' ? [] : [{ type: 'text', text }];
    }
    if (p.type === 'image_url') return [imageBlock((p as { image_url: { url: string } }).image_url.url, `${param}[${i}].image_url.url`)];
    throw invalidRequest(`Content parts of type "${p.type}" are not supported by Anthropic models.`, `${param}[${i}].type`);
  });
}

function toolInput(args: string, param: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = args.trim() === '' ? {} : JSON.parse(args);
  } catch {
    throw invalidRequest('Tool call arguments must be a JSON object to be replayed to an Anthropic model.', param);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw invalidRequest('Tool call arguments must be a JSON object to be replayed to an Anthropic model.', param);
  }
  return parsed as Record<string, unknown>;
}

/** One OpenAI message as Anthropic turn content; system messages are handled by the caller. */
function turn(m: ChatMessage, i: number): AnthropicMessage {
  const param = `messages[${i}]`;
  switch (m.role) {
    case 'user':
      return { role: 'user', content: userBlocks(m.content, `${param}.content`) };
    case 'assistant': {
      const blocks: AnthropicBlock[] = [];
      const text = plainText(m.content, `${param}.content`);
      if (text !== '') blocks.push({ type: 'text', text });
      (m.tool_calls ?? []).forEach((t, j) =>
        blocks.push({ type: 'tool_use', id: t.id, name: t.function.name, input: toolInput(t.function.arguments, `${param}.tool_calls[${j}].function.arguments`) }),
      );
      return { role: 'assistant', content: blocks };
    }
    case 'tool': {
      if (m.tool_call_id === undefined) throw invalidRequest('Tool messages need a tool_call_id.', `${param}.tool_call_id`);
      // A tool result is a user turn in the Messages API.
      const content = typeof m.content === 'string' || m.content == null
        ? (m.content ?? '')
        : plainText(m.content, `${param}.content`);
      return { role: 'user', content: [{ type: 'tool_result', tool_use_id: m.tool_call_id, content }] };
    }
    default:
      throw invalidRequest(`Messages with role "${m.role}" are not supported by Anthropic models; use tool messages.`, `${param}.role`);
  }
}

function toolChoice(req: ChatRequest): AnthropicToolChoice | undefined {
  const c = req.tool_choice;
  const noParallel = req.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
  if (c === undefined) return req.parallel_tool_calls === false ? { type: 'auto', disable_parallel_tool_use: true } : undefined;
  if (c === 'none') return { type: 'none' };
  if (c === 'auto') return { type: 'auto', ...noParallel };
  if (c === 'required') return { type: 'any', ...noParallel };
  return { type: 'tool', name: c.function.name, ...noParallel };
}

/**
 * Maps a validated chat request to the Messages API: system and developer messages become `system`,
 * consecutive same-role turns merge (the API wants alternation), `max_tokens` is always set.
 */
export function toAnthropicRequest(req: ChatRequest, model: ModelEntry, stream: boolean): AnthropicRequest {
  if (req.n != null && req.n > 1) throw invalidRequest('Anthropic models return one choice; n must be 1.', 'n');
  const system: string[] = [];
  const messages: AnthropicMessage[] = [];
  req.messages.forEach((m, i) => {
    if (m.role === 'system' || m.role === 'developer') {
      const text = plainText(m.content, `messages[${i}].content`);
      if (text !== '') system.push(text);
      return;
    }
    const t = turn(m, i);
    if (t.content.length === 0) return; // the API rejects empty turns
    const last = messages.at(-1);
    if (last !== undefined && last.role === t.role) last.content.push(...t.content);
    else messages.push(t);
  });
  // A conversation of system text only: the Messages API needs a user turn to answer.
  if (messages.length === 0) {
    if (system.length === 0) throw invalidRequest('The messages contain no text to answer.', 'messages');
    messages.push({ role: 'user', content: [{ type: 'text', text: system.splice(0).join('\n\n') }] });
  }

  const body: AnthropicRequest = {
    model: model.upstreamModel,
    max_tokens: req.max_completion_tokens ?? req.max_tokens ?? model.maxOutputTokens,
    messages,
  };
  if (system.length > 0) body.system = system.join('\n\n');
  if (req.stop != null) {
    const stops = (typeof req.stop === 'string' ? [req.stop] : req.stop).filter((s) => s !== '');
    if (stops.length > 0) body.stop_sequences = stops;
  }
  if (req.temperature != null) body.temperature = Math.min(req.temperature, MAX_TEMPERATURE);
  if (req.top_p != null) body.top_p = req.top_p;
  if (req.tools !== undefined && req.tools.length > 0) {
    body.tools = req.tools.map((t) => ({
      name: t.function.name,
      ...(t.function.description !== undefined ? { description: t.function.description } : {}),
      input_schema: t.function.parameters ?? { type: 'object', properties: {} },
    }));
    const choice = toolChoice(req);
    if (choice !== undefined) body.tool_choice = choice;
  }
  if (req.user !== undefined && req.user !== '') body.metadata = { user_id: req.user };
  if (stream) body.stream = true;
  return body;
}
