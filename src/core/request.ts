// The OpenAI Chat Completions request: one zod schema, unknown fields kept for compatible upstreams.
import { z } from 'zod';
import { invalidRequest } from './errors.js';
import { isChatRequest } from './request-check.js';

const textPart = z.looseObject({ type: z.literal('text'), text: z.string() });
const imagePart = z.looseObject({
  type: z.literal('image_url'),
  image_url: z.looseObject({ url: z.string().min(1), detail: z.enum(['auto', 'low', 'high']).optional() }),
});
/** Parts other than text and images (audio, files, refusals) pass through to OpenAI-compatible upstreams untouched. */
const otherPart = z.looseObject({ type: z.string() }).refine((p) => p.type !== 'text' && p.type !== 'image_url', {
  message: 'Invalid content part',
});
export const contentPartSchema = z.union([textPart, imagePart, otherPart]);

const toolCallSchema = z.looseObject({
  id: z.string(),
  type: z.literal('function'),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});

export const messageSchema = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(contentPartSchema), z.null()]).optional(),
  name: z.string().optional(),
  tool_calls: z.array(toolCallSchema).optional(),
  tool_call_id: z.string().optional(),
});

export const toolSchema = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullable().optional(),
  }),
});

const toolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string() }) }),
]);

const responseFormatSchema = z.looseObject({
  type: z.enum(['text', 'json_object', 'json_schema']),
  json_schema: z.looseObject({ name: z.string() }).optional(),
});

const positiveInt = z.number().int().positive();

/** The request body of `POST /v1/chat/completions`. */
export const chatRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(messageSchema).min(1),
  tools: z.array(toolSchema).optional(),
  tool_choice: toolChoiceSchema.optional(),
  parallel_tool_calls: z.boolean().optional(),
  response_format: responseFormatSchema.optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  max_tokens: positiveInt.nullable().optional(),
  max_completion_tokens: positiveInt.nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullable().optional(),
  n: z.number().int().min(1).max(128).nullable().optional(),
  seed: z.number().int().nullable().optional(),
  user: z.string().optional(),
});

export type ChatRequest = z.infer<typeof chatRequestSchema>;
export type ChatMessage = z.infer<typeof messageSchema>;
export type ContentPart = z.infer<typeof contentPartSchema>;
export type ChatTool = z.infer<typeof toolSchema>;

/** Renders a zod issue path as OpenAI does in `param`, e.g. `messages[0].content`. */
export function formatParam(path: ReadonlyArray<PropertyKey>): string | null {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out === '' ? null : out;
}

/**
 * Validates a parsed JSON body; throws a 400 naming the first offending field. A valid body is returned as it is
 * (checked in place, see request-check.ts); zod parses only the ones that fail, for its message.
 */
export function parseChatRequest(body: unknown): ChatRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidRequest('The request body must be a JSON object.');
  }
  if (isChatRequest(body as Record<string, unknown>)) return body as ChatRequest;
  const result = chatRequestSchema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const param = formatParam(issue.path);
  const what = issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : `is invalid: ${issue.message}`;
  throw invalidRequest(`${param ?? 'body'} ${what}`, param);
}

/** The output ceiling the client asked for, if any (`max_completion_tokens` wins, as at OpenAI). */
export function requestedMaxTokens(req: ChatRequest): number | undefined {
  return req.max_completion_tokens ?? req.max_tokens ?? undefined;
}

/** Whether the request asks for JSON output. */
export function wantsJson(req: ChatRequest): boolean {
  const t = req.response_format?.type;
  return t === 'json_object' || t === 'json_schema';
}

/** Whether any message carries an image part. */
export function hasImages(req: ChatRequest): boolean {
  for (const m of req.messages) {
    if (Array.isArray(m.content)) for (const p of m.content) if (p.type === 'image_url') return true;
  }
  return false;
}

/** Whether the request uses tools (declares them or replays tool turns). */
export function usesTools(req: ChatRequest): boolean {
  if (req.tools !== undefined && req.tools.length > 0) return true;
  return req.messages.some((m) => m.role === 'tool' || (m.tool_calls !== undefined && m.tool_calls.length > 0));
}
