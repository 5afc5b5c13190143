// The stand-in upstream's answers, as bytes: shared by bench/upstream.mjs and the in-process micro-benchmarks, so both
// measure the same stream.
const created = 1_750_000_000;
const model = 'gpt-4o-mini-2024-07-18';
const words = ('The gateway forwards this answer to the client unchanged except for the model name, ' +
  'and it meters the usage it sees on the way past.').split(' ');
const content = words.join(' ');
const usage = { prompt_tokens: 120, completion_tokens: 16, total_tokens: 136 };

export const jsonBody = Buffer.from(JSON.stringify({
  id: 'chatcmpl-bench', object: 'chat.completion', created, model,
  choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
  usage, system_fingerprint: 'fp_bench',
}));

const frame = (choices, extra = {}) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_bench', choices, ...extra })}\n\n`;
/** n content chunks (the first with the role, the last with finish_reason), then the usage chunk and [DONE]. */
export function frames(n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const delta = i === 0 ? { role: 'assistant', content: words[i % words.length] } : { content: ' ' + words[i % words.length] };
    out.push(frame([{ index: 0, delta, logprobs: null, finish_reason: i === n - 1 ? 'stop' : null }], { usage: null }));
  }
  out.push(frame([], { usage: { ...usage, completion_tokens: n, total_tokens: usage.prompt_tokens + n } }));
  out.push('data: [DONE]\n\n');
  return out.map((s) => Buffer.from(s));
}
