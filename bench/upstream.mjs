// The bench's stand-in OpenAI upstream: pre-serialised answers, so it costs next to nothing per request.
import { createServer } from 'node:http';
import { frames, jsonBody } from './answers.mjs';

/** A body containing this `user` gets a slow stream: one chunk every SLOW_INTERVAL_MS (the memory scenario). */
export const SLOW_MARKER = '"user":"bench-slow"';
const SLOW_CHUNKS = Number(process.env.BENCH_SLOW_CHUNKS ?? 30);
const SLOW_INTERVAL_MS = Number(process.env.BENCH_SLOW_INTERVAL_MS ?? 100);
const API_KEY = process.env.UPSTREAM_API_KEY ?? 'sk-bench';

const fastFrames = frames(16);
const slowFrames = frames(SLOW_CHUNKS);

const jsonHeaders = { 'content-type': 'application/json', 'content-length': String(jsonBody.length) };
const sseHeaders = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };
const unauthorized = JSON.stringify({ error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.headers.authorization !== `Bearer ${API_KEY}`) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(unauthorized);
      return;
    }
    // Byte search instead of JSON.parse: the stand-in must never be what limits the figures.
    const text = (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString('latin1');
    if (!/"stream"\s*:\s*true/.test(text)) {
      res.writeHead(200, jsonHeaders);
      res.end(jsonBody);
      return;
    }
    res.writeHead(200, sseHeaders);
    if (!text.includes(SLOW_MARKER)) {
      // Separate writes, as a real provider's chunks arrive separately.
      for (const f of fastFrames) res.write(f);
      res.end();
      return;
    }
    let i = 0;
    const timer = setInterval(() => {
      if (res.destroyed) return clearInterval(timer);
      res.write(slowFrames[i++]);
      if (i === slowFrames.length) {
        clearInterval(timer);
        res.end();
      }
    }, SLOW_INTERVAL_MS);
    res.on('close', () => clearInterval(timer));
  });
});
server.keepAliveTimeout = 5_000;
server.listen(0, '127.0.0.1', () => process.send?.({ type: 'ready', port: server.address().port }));
process.on('message', (m) => {
  if (m?.type === 'stop') {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
