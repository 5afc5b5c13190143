// Gemini streamGenerateContent (alt=sse) events → OpenAI `chat.completion.chunk` JSON texts, metering usage as they pass.
import type { Usage } from '../../core/cost.js';
import type { SseEvent } from '../../stream/sse.js';
import type { ExchangeInfo, StreamTranslator } from '../types.js';
import { UpstreamStreamError } from '../types.js';
import { usageChunk } from '../shared.js';
import { finishReason, openAIUsage, readParts, toUsage, toolCallId, type GeminiResponse, type GeminiUsageMetadata } from './response.js';

/**
 * One translator per streamed answer. Each Gemini event is a whole GenerateContentResponse holding
 * the next piece of each candidate; usageMetadata may ride on any of them and the last one counts.
 * There is no `[DONE]`: the stream is complete once every candidate seen has a finishReason.
 */
export class GeminiStreamTranslator implements StreamTranslator {
  private meta: GeminiUsageMetadata | undefined;
  private bytes = 0;
  private callCount = 0;
  /** Per candidate: OpenAI tool-call indexes used so far, and whether it finished. */
  private readonly choices = new Map<number, { tools: number; finished: boolean }>();
  private blocked = false;

  constructor(private readonly info: ExchangeInfo, private readonly includeUsage: boolean) {}

  private chunk(index: number, delta: Record<string, unknown>, finish: string | null = null): string {
    return JSON.stringify({
      id: this.info.id,
      object: 'chat.completion.chunk',
      created: this.info.created,
      model: this.info.model,
      choices: [{ index, delta, logprobs: null, finish_reason: finish }],
    });
  }

  push(event: SseEvent): string[] {
    const r = JSON.parse(event.data) as GeminiResponse;
    if (r.error !== undefined) throw new UpstreamStreamError(r.error.message ?? 'The provider reported an error mid-stream.', r.error.status);
    if (r.usageMetadata !== undefined) this.meta = r.usageMetadata;
    const out: string[] = [];
    (r.candidates ?? []).forEach((c, i) => {
      const index = c.index ?? i;
      let state = this.choices.get(index);
      const delta: Record<string, unknown> = {};
      if (state === undefined) {
        state = { tools: 0, finished: false };
        this.choices.set(index, state);
        delta.role = 'assistant';
      }
      const { text, thoughtBytes, calls } = readParts(c.content?.parts);
      this.bytes += thoughtBytes + Buffer.byteLength(text);
      if (text !== '' || delta.role !== undefined) delta.content = text;
      if (calls.length > 0) {
        // Gemini sends each call whole, so each OpenAI delta carries id, name and all arguments at once.
        delta.tool_calls = calls.map((call) => {
          const args = JSON.stringify(call.args);
          this.bytes += Buffer.byteLength(call.name) + Buffer.byteLength(args);
          return { index: state.tools++, id: toolCallId(this.info, this.callCount++, call.id), type: 'function', function: { name: call.name, arguments: args } };
        });
      }
      if (delta.role !== undefined || text !== '' || calls.length > 0) out.push(this.chunk(index, delta));
      const finish = finishReason(c.finishReason);
      if (finish !== null && !state.finished) {
        state.finished = true;
        out.push(this.chunk(index, {}, state.tools > 0 ? 'tool_calls' : finish));
      }
    });
    if ((r.candidates ?? []).length === 0 && r.promptFeedback?.blockReason !== undefined && !this.blocked) {
      // The prompt was blocked before any candidate: one empty choice that ends in content_filter.
      this.blocked = true;
      out.push(this.chunk(0, { role: 'assistant', content: '' }), this.chunk(0, {}, 'content_filter'));
    }
    return out;
  }

  /** The usage chunk goes last, after the stream ended, because Gemini may still send usage after the finish reason. */
  end(): string[] {
    const usage = this.usage();
    if (!this.includeUsage || usage === null || !this.completed()) return [];
    return [usageChunk(this.info, openAIUsage(usage, this.meta))];
  }

  usage(): Usage | null {
    return toUsage(this.meta);
  }

  outputBytes(): number {
    return this.bytes;
  }

  completed(): boolean {
    if (this.blocked) return true;
    if (this.choices.size === 0) return false;
    for (const c of this.choices.values()) if (!c.finished) return false;
    return true;
  }
}
