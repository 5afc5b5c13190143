// Anthropic Messages stream events → OpenAI `chat.completion.chunk` JSON texts, metering usage as they pass.
import type { Usage } from '../../core/cost.js';
import type { SseEvent } from '../../stream/sse.js';
import type { ExchangeInfo, StreamTranslator } from '../types.js';
import { UpstreamStreamError } from '../types.js';
import { usageChunk } from '../shared.js';
import { finishReason, inputTokensOf, type AnthropicUsage } from './response.js';

interface AnthropicStreamEvent {
  type: string;
  index?: number;
  message?: { id?: string; usage?: AnthropicUsage };
  content_block?: { type: string; id?: string; name?: string; text?: string };
  delta?: { type?: string; text?: string; partial_json?: string; thinking?: string; stop_reason?: string | null };
  usage?: AnthropicUsage;
  error?: { type?: string; message?: string };
}

type Delta = Record<string, unknown>;

/** One translator per streamed answer. Usage: input from `message_start`, output assigned from each `message_delta`. */
export class AnthropicStreamTranslator implements StreamTranslator {
  private input: number | null = null;
  private output = 0;
  private cachedRead = 0;
  private bytes = 0;
  private done = false;
  /** Anthropic content-block index → OpenAI tool-call index, for tool_use blocks. */
  private readonly toolIndex = new Map<number, number>();

  constructor(private readonly info: ExchangeInfo, private readonly includeUsage: boolean) {}

  private chunk(delta: Delta, finish: string | null = null): string {
    return JSON.stringify({
      id: this.info.id,
      object: 'chat.completion.chunk',
      created: this.info.created,
      model: this.info.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    });
  }

  push(event: SseEvent): string[] {
    const e = JSON.parse(event.data) as AnthropicStreamEvent;
    switch (e.type) {
      case 'message_start': {
        const u = e.message?.usage;
        if (u != null) {
          this.input = inputTokensOf(u);
          this.output = u.output_tokens ?? 0;
          this.cachedRead = u.cache_read_input_tokens ?? 0;
        }
        return [this.chunk({ role: 'assistant', content: '' })];
      }
      case 'content_block_start': {
        const b = e.content_block;
        if (b?.type === 'tool_use') {
          const index = this.toolIndex.size;
          this.toolIndex.set(e.index ?? index, index);
          this.bytes += Buffer.byteLength(b.name ?? '');
          return [this.chunk({ tool_calls: [{ index, id: b.id, type: 'function', function: { name: b.name, arguments: '' } }] })];
        }
        if (b?.type === 'text' && b.text) {
          this.bytes += Buffer.byteLength(b.text);
          return [this.chunk({ content: b.text })];
        }
        return [];
      }
      case 'content_block_delta': {
        const d = e.delta;
        if (d?.type === 'text_delta' && d.text) {
          this.bytes += Buffer.byteLength(d.text);
          return [this.chunk({ content: d.text })];
        }
        if (d?.type === 'input_json_delta' && d.partial_json) {
          this.bytes += Buffer.byteLength(d.partial_json);
          const index = this.toolIndex.get(e.index ?? -1);
          if (index === undefined) return [];
          return [this.chunk({ tool_calls: [{ index, function: { arguments: d.partial_json } }] })];
        }
        // Thinking is billed as output but has no Chat Completions field: counted for estimates, not shown.
        if (d?.type === 'thinking_delta' && d.thinking) this.bytes += Buffer.byteLength(d.thinking);
        return [];
      }
      case 'message_delta': {
        const u = e.usage;
        if (u != null) {
          // Cumulative counts: assign, never add.
          if (typeof u.output_tokens === 'number') this.output = u.output_tokens;
          if (typeof u.input_tokens === 'number') {
            this.input = inputTokensOf(u);
            this.cachedRead = u.cache_read_input_tokens ?? this.cachedRead;
          }
        }
        const finish = finishReason(e.delta?.stop_reason);
        return finish === null ? [] : [this.chunk({}, finish)];
      }
      case 'message_stop': {
        this.done = true;
        if (!this.includeUsage || this.input === null) return [];
        return [usageChunk(this.info, this.openAIUsage())];
      }
      case 'error':
        throw new UpstreamStreamError(e.error?.message ?? 'The provider reported an error mid-stream.', e.error?.type);
      default:
        return []; // ping, content_block_stop and event types added later
    }
  }

  private openAIUsage() {
    const input = this.input ?? 0;
    return {
      prompt_tokens: input,
      completion_tokens: this.output,
      total_tokens: input + this.output,
      ...(this.cachedRead > 0 ? { prompt_tokens_details: { cached_tokens: this.cachedRead } } : {}),
    };
  }

  end(): string[] {
    return [];
  }

  usage(): Usage | null {
    return this.input === null ? null : { inputTokens: this.input, outputTokens: this.output, estimated: false };
  }

  outputBytes(): number {
    return this.bytes;
  }

  completed(): boolean {
    return this.done;
  }
}
