// OpenAI Chat Completions request → Gemini generateContent request. Pure.
import type { ModelEntry } from '../../core/catalog.js';
import { invalidRequest } from '../../core/errors.js';
import type { ChatMessage, ChatRequest, ContentPart } from '../../core/request.js';
import { plainText } from '../shared.js';
import { parametersOf, responseSchemaOf, type GeminiSchema } from './schema.js';

export type GeminiPart =
  | { text: string }
  | { inlineData: { mimeType: string; data: string } }
  | { fileData: { mimeType: string; fileUri: string } }
  | { functionCall: { name: string; args: Record<string, unknown> } }
  | { functionResponse: { name: string; response: Record<string, unknown> } };

export interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}

export interface GeminiGenerationConfig {
  maxOutputTokens?: number;
  temperature?: number;
  topP?: number;
  stopSequences?: string[];
  candidateCount?: number;
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseMimeType?: string;
  responseSchema?: GeminiSchema;
}

/** The body of `models/{model}:generateContent`, as far as the gateway fills it. */
export interface GeminiRequest {
  contents: GeminiContent[];
  systemInstruction?: { parts: Array<{ text: string }> };
  generationConfig?: GeminiGenerationConfig;
  tools?: Array<{ functionDeclarations: Array<{ name: string; description?: string; parameters?: GeminiSchema }> }>;
  toolConfig?: { functionCallingConfig: { mode: 'AUTO' | 'ANY' | 'NONE'; allowedFunctionNames?: string[] } };
}

/** Parses `data:<mime>;base64,<data>`; null for anything else. */
function parseDataUrl(url: string): { mimeType: string; data: string } | null {
  const m = /^data:([^;,]+)((?:;[^;,]*)*?);base64,(.*)$/s.exec(url);
  return m === null ? null : { mimeType: m[1]!.toLowerCase(), data: m[3]! };
}

const EXTENSION_TYPES: Record<string, string> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif', heic: 'image/heic', heif: 'image/heif',
};

/** fileData needs a MIME type; guess it from the URL's extension, JPEG when there is none. */
function mimeFromUrl(url: string): string {
  const ext = /\.([a-z0-9]+)(?:$|[?#])/i.exec(new URL(url).pathname)?.[1]?.toLowerCase();
  return (ext !== undefined ? EXTENSION_TYPES[ext] : undefined) ?? 'image/jpeg';
}

function imagePart(url: string, param: string): GeminiPart {
  if (/^https?:\/\//i.test(url)) return { fileData: { mimeType: mimeFromUrl(url), fileUri: url } };
  const d = parseDataUrl(url);
  if (d === null) throw invalidRequest('Images must be http(s) URLs or base64 data: URLs.', param);
  return { inlineData: { mimeType: d.mimeType, data: d.data } };
}

function userParts(content: ChatMessage['content'], param: string): GeminiPart[] {
  if (content == null) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  return content.flatMap((p: ContentPart, i): GeminiPart[] => {
    if (p.type === 'text') {
      const text = (p as { text: string }).text;
      return text === '' ? [] : [{ text }];
    }
    if (p.type === 'image_url') return [imagePart((p as { image_url: { url: string } }).image_url.url, `${param}[${i}].image_url.url`)];
    throw invalidRequest(`Content parts of type "${p.type}" are not supported by Gemini models through this gateway.`, `${param}[${i}].type`);
  });
}

function parseObject(text: string, param: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw invalidRequest('Tool call arguments must be a JSON object to be replayed to a Gemini model.', param);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw invalidRequest('Tool call arguments must be a JSON object to be replayed to a Gemini model.', param);
  }
  return v as Record<string, unknown>;
}

/**
 * A tool result as functionResponse.response, which must be a JSON object: an object result is sent
 * as is; anything else (text, a number, an array) under `output`, the key Gemini reads as the result.
 */
function functionResponse(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    return { output: v };
  } catch {
    return { output: text };
  }
}

function toolConfig(req: ChatRequest): GeminiRequest['toolConfig'] {
  const c = req.tool_choice;
  if (c === undefined) return undefined;
  if (c === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (c === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (c === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [c.function.name] } };
}

/**
 * Maps a validated chat request to generateContent: system and developer messages become
 * `systemInstruction`, assistant turns are `model` turns, tool results are `functionResponse` parts
 * named after the call they answer, and consecutive same-role turns merge (parallel results share a turn).
 */
export function toGeminiRequest(req: ChatRequest, _model: ModelEntry): GeminiRequest {
  const system: string[] = [];
  const contents: GeminiContent[] = [];
  /** tool_call id → function name: Gemini answers calls by name, OpenAI by id. */
  const callNames = new Map<string, string>();

  req.messages.forEach((m, i) => {
    const param = `messages[${i}]`;
    let turn: GeminiContent;
    switch (m.role) {
      case 'system':
      case 'developer': {
        const text = plainText(m.content, `${param}.content`);
        if (text !== '') system.push(text);
        return;
      }
      case 'user':
        turn = { role: 'user', parts: userParts(m.content, `${param}.content`) };
        break;
      case 'assistant': {
        const parts: GeminiPart[] = [];
        const text = plainText(m.content, `${param}.content`);
        if (text !== '') parts.push({ text });
        (m.tool_calls ?? []).forEach((t, j) => {
          callNames.set(t.id, t.function.name);
          parts.push({ functionCall: { name: t.function.name, args: parseObject(t.function.arguments, `${param}.tool_calls[${j}].function.arguments`) } });
        });
        turn = { role: 'model', parts };
        break;
      }
      case 'tool': {
        const name = (m.tool_call_id !== undefined ? callNames.get(m.tool_call_id) : undefined) ?? m.name;
        if (name === undefined) {
          throw invalidRequest('A tool message must answer a tool call made by an earlier assistant message.', `${param}.tool_call_id`);
        }
        turn = { role: 'user', parts: [{ functionResponse: { name, response: functionResponse(plainText(m.content, `${param}.content`)) } }] };
        break;
      }
      case 'function': {
        // The legacy form names its function itself.
        if (m.name === undefined) throw invalidRequest('Function messages need a name.', `${param}.name`);
        turn = { role: 'user', parts: [{ functionResponse: { name: m.name, response: functionResponse(plainText(m.content, `${param}.content`)) } }] };
        break;
      }
    }
    if (turn.parts.length === 0) return; // Gemini rejects a turn without parts
    const last = contents.at(-1);
    if (last !== undefined && last.role === turn.role) last.parts.push(...turn.parts);
    else contents.push(turn);
  });
  if (contents.length === 0) {
    if (system.length === 0) throw invalidRequest('The messages contain no text to answer.', 'messages');
    contents.push({ role: 'user', parts: [{ text: system.splice(0).join('\n\n') }] });
  }

  const body: GeminiRequest = { contents };
  if (system.length > 0) body.systemInstruction = { parts: system.map((text) => ({ text })) };

  const g: GeminiGenerationConfig = {};
  const max = req.max_completion_tokens ?? req.max_tokens;
  if (max != null) g.maxOutputTokens = max;
  if (req.temperature != null) g.temperature = req.temperature;
  if (req.top_p != null) g.topP = req.top_p;
  if (req.stop != null) {
    const stops = (typeof req.stop === 'string' ? [req.stop] : req.stop).filter((s) => s !== '');
    if (stops.length > 0) g.stopSequences = stops;
  }
  if (req.n != null && req.n > 1) g.candidateCount = req.n;
  if (req.seed != null) g.seed = req.seed;
  const extra = req as Record<string, unknown>;
  if (typeof extra.presence_penalty === 'number') g.presencePenalty = extra.presence_penalty;
  if (typeof extra.frequency_penalty === 'number') g.frequencyPenalty = extra.frequency_penalty;
  const format = req.response_format;
  if (format?.type === 'json_object' || format?.type === 'json_schema') {
    g.responseMimeType = 'application/json';
    const schema = format.type === 'json_schema' ? (format.json_schema as { schema?: unknown } | undefined)?.schema : undefined;
    const converted = schema === undefined ? null : responseSchemaOf(schema);
    if (converted !== null) g.responseSchema = converted;
  }
  if (Object.keys(g).length > 0) body.generationConfig = g;

  if (req.tools !== undefined && req.tools.length > 0) {
    body.tools = [{
      functionDeclarations: req.tools.map((t) => {
        const parameters = parametersOf(t.function.parameters);
        return {
          name: t.function.name,
          ...(t.function.description !== undefined ? { description: t.function.description } : {}),
          ...(parameters !== undefined ? { parameters } : {}),
        };
      }),
    }];
    const tc = toolConfig(req);
    if (tc !== undefined) body.toolConfig = tc;
  }
  return body;
}
