// The gateway's upstream client alone: its transport against the bench's stand-in upstream (its own process), 32
// requests at a time; CPU per request of this process. MICRO_STREAM=1 asks for the streamed answer.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { load, measure } from './common.mjs';

const [{ undiciTransport }, { Cancellation }] = await Promise.all(['transport/undici.js', 'transport/cancellation.js'].map(load));
const up = fork(fileURLToPath(new URL('../upstream.mjs', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const port = await new Promise((resolve) => up.on('message', (m) => m?.type === 'ready' && resolve(m.port)));
const stream = process.env.MICRO_STREAM === '1';
const send = undiciTransport();
const request = {
  url: `http://127.0.0.1:${port}/v1/chat/completions`,
  headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' },
  body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], ...(stream ? { stream: true } : {}) }),
};
const one = async () => {
  const res = await send(request, new Cancellation());
  if (!stream) return res.body.json();
  for await (const _ of res.body);
};
await measure(`transport, ${stream ? 'streamed' : 'JSON'} answers, 32 at a time`, { batches: 2_000, perBatch: 32 }, () =>
  Promise.all(Array.from({ length: 32 }, one)),
);
await send.close();
up.kill();
