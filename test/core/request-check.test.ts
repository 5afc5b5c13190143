// isChatRequest: the schema checked by hand must agree with chatRequestSchema on every body, valid or broken.
import { describe, expect, it } from 'vitest';
import { isChatRequest } from '../../src/core/request-check.js';
import { chatRequestSchema, parseChatRequest } from '../../src/core/request.js';
import { prng } from '../contracts/support.js';

/** Seeded (the contract suites' mulberry32), so a failure names a body that can be made again. */
function random(seed: number) {
  const next = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const chance = (p: number) => next() < p;
  return { next, pick, chance };
}
type Rand = ReturnType<typeof random>;
type Json = Record<string, unknown>;

const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'];

function part(r: Rand): Json {
  switch (r.pick(['text', 'image', 'other'])) {
    case 'text':
      return { type: 'text', text: r.pick(['', 'hello', 'héllo 🎉']) };
    case 'image':
      return { type: 'image_url', image_url: { url: 'https://example.com/a.png', ...(r.chance(0.5) ? { detail: r.pick(['auto', 'low', 'high']) } : {}) } };
    default:
      return { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } };
  }
}

function message(r: Rand): Json {
  const m: Json = { role: r.pick(ROLES) };
  const content = r.pick(['string', 'null', 'absent', 'parts']);
  if (content === 'string') m.content = r.pick(['', 'Say hi.', 'ünïcode']);
  else if (content === 'null') m.content = null;
  else if (content === 'parts') m.content = Array.from({ length: 1 + Math.floor(r.next() * 3) }, () => part(r));
  if (r.chance(0.2)) m.name = 'alice';
  if (r.chance(0.2)) m.tool_calls = [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":1}' } }];
  if (r.chance(0.2)) m.tool_call_id = 'call_1';
  return m;
}

function tool(r: Rand): Json {
  const f: Json = { name: 'lookup' };
  if (r.chance(0.5)) f.description = 'Looks things up';
  if (r.chance(0.5)) f.parameters = { type: 'object', properties: { q: { type: 'string' } } };
  if (r.chance(0.3)) f.strict = r.pick([true, false, null]);
  return { type: 'function', function: f };
}

/** A body the schema accepts, with a random choice of every optional field. */
function validBody(r: Rand): Json {
  const b: Json = { model: r.pick(['gpt-4o-mini', 'economy', 'auto']), messages: Array.from({ length: 1 + Math.floor(r.next() * 3) }, () => message(r)) };
  if (r.chance(0.3)) b.tools = [tool(r), ...(r.chance(0.5) ? [tool(r)] : [])];
  if (r.chance(0.2)) b.tool_choice = r.pick(['none', 'auto', 'required', { type: 'function', function: { name: 'lookup' } }]);
  if (r.chance(0.2)) b.parallel_tool_calls = r.pick([true, false]);
  if (r.chance(0.3)) b.response_format = r.pick([{ type: 'text' }, { type: 'json_object' }, { type: 'json_schema', json_schema: { name: 'out', schema: {} } }]);
  if (r.chance(0.5)) b.stream = r.pick([true, false, null]);
  if (r.chance(0.3)) b.stream_options = r.pick([null, {}, { include_usage: true }, { include_usage: false }]);
  if (r.chance(0.4)) b.max_tokens = r.pick([1, 256, null]);
  if (r.chance(0.2)) b.max_completion_tokens = r.pick([1, 4096, null]);
  if (r.chance(0.4)) b.temperature = r.pick([0, 0.2, 2, null]);
  if (r.chance(0.2)) b.top_p = r.pick([0, 0.5, 1, null]);
  if (r.chance(0.2)) b.stop = r.pick(['\n', ['a', 'b', 'c', 'd'], [], null]);
  if (r.chance(0.2)) b.n = r.pick([1, 128, null]);
  if (r.chance(0.2)) b.seed = r.pick([-5, 0, 42, null]);
  if (r.chance(0.2)) b.user = 'user-1';
  if (r.chance(0.2)) b.metadata = { anything: [1, 'two'] }; // unknown fields pass through
  return b;
}

/** Values a broken body is made of: wrong types, edges just in and just out of range, look-alike strings. */
const PALETTE: readonly unknown[] = [
  null, '', 'x', 'text', 'image_url', 'function', 'user', 'auto', 'low', 'json_schema', 0, -1, 1, 1.5, 2, 2.5, 128, 129,
  2 ** 53, true, false, [], ['a'], ['a', 'b', 'c', 'd', 'e'], {}, { type: 'text' }, { name: 'n' }, { type: 'function' },
];

/** Every place in a body a value sits: [container, key]. */
function places(v: unknown, out: Array<[Json | unknown[], string | number]> = []): Array<[Json | unknown[], string | number]> {
  if (Array.isArray(v)) v.forEach((x, i) => (out.push([v, i]), places(x, out)));
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) out.push([v as Json, k]), places(x, out);
  return out;
}

/** Every name the schema gives a field, at any depth. */
const NAMES = [
  'model', 'messages', 'role', 'content', 'name', 'tool_calls', 'tool_call_id', 'tools', 'tool_choice', 'parallel_tool_calls',
  'response_format', 'json_schema', 'stream', 'stream_options', 'include_usage', 'max_tokens', 'max_completion_tokens',
  'temperature', 'top_p', 'stop', 'n', 'seed', 'user', 'type', 'text', 'image_url', 'url', 'detail', 'id', 'function',
  'arguments', 'description', 'parameters', 'strict',
];

/** One change: a value replaced by a palette one, a key removed, a named field set on some object, or an array grown. */
function mutate(body: Json, r: Rand): void {
  const all = places(body);
  const [where, key] = r.pick(all);
  const value = (where as Json)[key as string];
  const kind = r.pick(['replace', 'replace', 'remove', 'name', 'name', 'grow']);
  if (kind === 'grow' && Array.isArray(value)) value.push(structuredClone(r.pick(PALETTE)));
  else if (kind === 'remove' && !Array.isArray(where)) delete where[key as string];
  else if (kind === 'name') {
    const objects = [body, ...all.map(([w, k]) => (w as Json)[k as string]).filter((v): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v))];
    r.pick(objects)[r.pick(NAMES)] = structuredClone(r.pick(PALETTE));
  } else (where as Json)[key as string] = structuredClone(r.pick(PALETTE));
}

describe('isChatRequest', () => {
  it('agrees with chatRequestSchema on 30,000 generated bodies, and a valid one is used as it is', () => {
    const r = random(20261127);
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 30_000; i++) {
      const body = validBody(r);
      const changes = r.pick([0, 1, 1, 2, 3]);
      for (let c = 0; c < changes; c++) mutate(body, r);
      const zod = chatRequestSchema.safeParse(body);
      const mine = typeof body === 'object' && isChatRequest(body);
      if (mine !== zod.success) expect.fail(`schema ${zod.success ? 'accepts' : 'refuses'} but the check does not: ${JSON.stringify(body)}`);
      if (zod.success) {
        accepted += 1;
        // Taken without a copy, and the same request zod would have made of it.
        const parsed = parseChatRequest(body);
        expect(parsed).toBe(body);
        expect(parsed).toEqual(zod.data);
      } else refused += 1;
    }
    // Both answers are common, so the agreement says something about each.
    expect(accepted).toBeGreaterThan(8_000);
    expect(refused).toBeGreaterThan(8_000);
  });

  it('leaves the error message to zod', () => {
    expect(() => parseChatRequest({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], temperature: 3 })).toThrow(
      /^temperature is invalid: /,
    );
    expect(() => parseChatRequest({ model: 'gpt-4o-mini' })).toThrow('messages is required');
  });
});
