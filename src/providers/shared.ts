// Small pure pieces every non-OpenAI provider mapping needs: text of a message, the assistant message, the usage chunk.
import { invalidRequest } from '../core/errors.js';
import type { ChatMessage } from '../core/request.js';
import type { ChatCompletion, ExchangeInfo } from './types.js';

/** Text of a system or tool message: a string, or its text parts joined; any other part is a 400 naming it. */
export function plainText(content: ChatMessage['content'], param: string): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content
    .map((p, i) => {
      if (p.type !== 'text') throw invalidRequest(`Only text parts are allowed here, not "${p.type}".`, `${param}[${i}]`);
      return (p as { text: string }).text;
    })
    .join('\n');
}

type ToolCall = NonNullable<ChatCompletion['choices'][number]['message']['tool_calls']>[number];

/** The OpenAI assistant message for mapped text and tool calls (content is null when only tools were called). */
export function assistantMessage(text: string, toolCalls: ToolCall[]): ChatCompletion['choices'][number]['message'] {
  return {
    role: 'assistant',
    content: text === '' && toolCalls.length > 0 ? null : text,
    refusal: null,
    ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
  };
}

/** The usage-only chunk that ends a stream when the client asked for `stream_options.include_usage`. */
export function usageChunk(info: ExchangeInfo, usage: unknown): string {
  return JSON.stringify({ id: info.id, object: 'chat.completion.chunk', created: info.created, model: info.model, choices: [], usage });
}
