// Gemini generateContent answer → OpenAI `chat.completion`, with the usage the gateway bills from. Pure.
import type { Usage } from '../../core/cost.js';
import type { ChatCompletion, ExchangeInfo, MappedResponse } from '../types.js';
import { assistantMessage } from '../shared.js';

export interface GeminiResponsePart {
  text?: string;
  thought?: boolean;
  functionCall?: { id?: string; name: string; args?: Record<string, unknown> };
  [k: string]: unknown;
}

export interface GeminiCandidate {
  index?: number;
  content?: { role?: string; parts?: GeminiResponsePart[] };
  finishReason?: string;
  [k: string]: unknown;
}

export interface GeminiUsageMetadata {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
  cachedContentTokenCount?: number;
  totalTokenCount?: number;
}

/** A GenerateContentResponse: the JSON answer, and each event of a stream. */
export interface GeminiResponse {
  candidates?: GeminiCandidate[];
  promptFeedback?: { blockReason?: string };
  usageMetadata?: GeminiUsageMetadata;
  modelVersion?: string;
  responseId?: string;
  error?: { code?: number; message?: string; status?: string };
}

export type ToolCall = NonNullable<ChatCompletion['choices'][number]['message']['tool_calls']>[number];

/** `finishReason` → OpenAI `finish_reason`; safety-type stops are content_filter, other stops are stop. */
export function finishReason(reason: string | undefined): string | null {
  switch (reason) {
    case undefined:
    case 'FINISH_REASON_UNSPECIFIED':
      return null;
    case 'MAX_TOKENS':
      return 'length';
    case 'SAFETY':
    case 'RECITATION':
    case 'BLOCKLIST':
    case 'PROHIBITED_CONTENT':
    case 'SPII':
    case 'IMAGE_SAFETY':
      return 'content_filter';
    default:
      return 'stop'; // STOP, LANGUAGE, OTHER, MALFORMED_FUNCTION_CALL…
  }
}

/** Input: prompt plus tool-use prompt tokens (cached tokens are already inside the prompt count). Output: candidates plus thoughts. */
export function toUsage(u: GeminiUsageMetadata | undefined): Usage | null {
  if (u === undefined || typeof u.promptTokenCount !== 'number') return null;
  return {
    inputTokens: u.promptTokenCount + (u.toolUsePromptTokenCount ?? 0),
    outputTokens: (u.candidatesTokenCount ?? 0) + (u.thoughtsTokenCount ?? 0),
    estimated: false,
  };
}

/** The OpenAI usage object for a billed usage; thoughts show as reasoning tokens, as o-series models report them. */
export function openAIUsage(usage: Usage, meta: GeminiUsageMetadata | undefined) {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    ...(meta?.cachedContentTokenCount ? { prompt_tokens_details: { cached_tokens: meta.cachedContentTokenCount } } : {}),
    ...(meta?.thoughtsTokenCount ? { completion_tokens_details: { reasoning_tokens: meta.thoughtsTokenCount } } : {}),
  };
}

/** Tool-call ids: Gemini's own when it sends one, else derived from the gateway's request id so they are unique. */
export function toolCallId(info: ExchangeInfo, n: number, given: string | undefined): string {
  return given !== undefined && given !== '' ? given : `call_${info.id.replace(/^chatcmpl-/, '')}_${n}`;
}

/** Text (thoughts left out) and function calls of one candidate's parts. */
export function readParts(parts: GeminiResponsePart[] | undefined): { text: string; thoughtBytes: number; calls: Array<{ id?: string; name: string; args: Record<string, unknown> }> } {
  let text = '';
  let thoughtBytes = 0;
  const calls: Array<{ id?: string; name: string; args: Record<string, unknown> }> = [];
  for (const p of parts ?? []) {
    if (typeof p.text === 'string') {
      if (p.thought === true) thoughtBytes += Buffer.byteLength(p.text);
      else text += p.text;
    }
    if (p.functionCall !== undefined) calls.push({ ...(p.functionCall.id !== undefined ? { id: p.functionCall.id } : {}), name: p.functionCall.name, args: p.functionCall.args ?? {} });
  }
  return { text, thoughtBytes, calls };
}

/** Maps a generateContent answer to a `chat.completion`; one choice per candidate. */
export function fromGeminiResponse(body: GeminiResponse, info: ExchangeInfo): MappedResponse {
  let callCount = 0;
  const candidates = body.candidates ?? [];
  const choices: ChatCompletion['choices'] = candidates.map((c, i) => {
    const { text, calls } = readParts(c.content?.parts);
    const toolCalls: ToolCall[] = calls.map((call) => ({
      id: toolCallId(info, callCount++, call.id),
      type: 'function',
      function: { name: call.name, arguments: JSON.stringify(call.args) },
    }));
    return {
      index: c.index ?? i,
      message: assistantMessage(text, toolCalls),
      logprobs: null,
      // Gemini says STOP after a function call; OpenAI clients look for tool_calls.
      finish_reason: toolCalls.length > 0 ? 'tool_calls' : (finishReason(c.finishReason) ?? 'stop'),
    };
  });
  if (choices.length === 0) {
    // The prompt itself was blocked: no candidates, only promptFeedback.blockReason.
    choices.push({
      index: 0,
      message: { role: 'assistant', content: null, refusal: null },
      logprobs: null,
      finish_reason: body.promptFeedback?.blockReason !== undefined ? 'content_filter' : 'stop',
    });
  }
  const usage = toUsage(body.usageMetadata);
  const completion: ChatCompletion = {
    id: info.id,
    object: 'chat.completion',
    created: info.created,
    model: info.model,
    choices,
  };
  if (usage !== null) completion.usage = openAIUsage(usage, body.usageMetadata);
  return { completion, usage };
}
