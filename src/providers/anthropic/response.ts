// Anthropic Messages answer → OpenAI `chat.completion`, with the usage the gateway bills from. Pure.
import type { Usage } from '../../core/cost.js';
import type { ChatCompletion, ExchangeInfo, MappedResponse } from '../types.js';
import { assistantMessage } from '../shared.js';

/** Token counts as Anthropic reports them; cache counts are separate from `input_tokens`. */
export interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

export type AnthropicContentBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: string; [k: string]: unknown };

/** The Messages API response object. */
export interface AnthropicMessageResponse {
  id: string;
  type: 'message';
  role: 'assistant';
  content: AnthropicContentBlock[];
  model: string;
  stop_reason: string | null;
  stop_sequence?: string | null;
  usage: AnthropicUsage;
}

/** `stop_reason` → OpenAI `finish_reason`. A refusal is the model's safety stop, so content_filter. */
export function finishReason(stopReason: string | null | undefined): string | null {
  switch (stopReason) {
    case 'end_turn':
    case 'stop_sequence':
    case 'pause_turn':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    case null:
    case undefined:
      return null;
    default:
      return 'stop';
  }
}

/** Input tokens including cache writes and reads: Anthropic counts them apart, but the request read them all. */
export function inputTokensOf(u: AnthropicUsage): number {
  return (u.input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0);
}

/** The usage to bill; null when the answer carries none. */
export function toUsage(u: AnthropicUsage | null | undefined): Usage | null {
  if (u == null || typeof u.input_tokens !== 'number') return null;
  return { inputTokens: inputTokensOf(u), outputTokens: u.output_tokens ?? 0, estimated: false };
}

/** Maps a Messages API answer to a `chat.completion`. The id is the gateway's, so it stays OpenAI-shaped. */
export function fromAnthropicResponse(body: AnthropicMessageResponse, info: ExchangeInfo): MappedResponse {
  let text = '';
  const toolCalls: NonNullable<ChatCompletion['choices'][number]['message']['tool_calls']> = [];
  for (const block of body.content ?? []) {
    if (block.type === 'text') text += (block as { text: string }).text;
    else if (block.type === 'tool_use') {
      const b = block as { id: string; name: string; input: unknown };
      toolCalls.push({ id: b.id, type: 'function', function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } });
    }
    // thinking and server-tool blocks have no Chat Completions equivalent; they are not shown.
  }
  const usage = toUsage(body.usage);
  const completion: ChatCompletion = {
    id: info.id,
    object: 'chat.completion',
    created: info.created,
    model: info.model,
    choices: [
      {
        index: 0,
        message: assistantMessage(text, toolCalls),
        logprobs: null,
        finish_reason: finishReason(body.stop_reason) ?? 'stop',
      },
    ],
  };
  if (usage !== null) {
    completion.usage = {
      prompt_tokens: usage.inputTokens,
      completion_tokens: usage.outputTokens,
      total_tokens: usage.inputTokens + usage.outputTokens,
      ...(body.usage.cache_read_input_tokens ? { prompt_tokens_details: { cached_tokens: body.usage.cache_read_input_tokens } } : {}),
    };
  }
  return { completion, usage };
}
