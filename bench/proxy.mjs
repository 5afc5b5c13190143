// The baseline: a bare pass-through proxy (node:http + an undici keep-alive pool) that parses and re-serialises the JSON body, as any router must.
import { createServer } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';

const upstream = new URL(process.env.UPSTREAM_URL);
const API_KEY = process.env.UPSTREAM_API_KEY ?? 'sk-bench';
const path = `${upstream.pathname.replace(/\/+$/, '')}/chat/completions`;
const pool = new Pool(upstream.origin, {
  connections: Number(process.env.BENCH_UPSTREAM_CONNECTIONS ?? 256),
  keepAliveTimeout: 30_000,
});

const server = createServer(async (req, res) => {
  try {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const up = await pool.request({
      path,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify(body),
    });
    res.writeHead(up.statusCode, { 'content-type': up.headers['content-type'] ?? 'application/json' });
    await pipeline(up.body, res);
  } catch {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
    res.end();
  }
});
server.keepAliveTimeout = 65_000;
server.requestTimeout = 0;
server.listen(0, '127.0.0.1', () => process.send?.({ type: 'ready', port: server.address().port }));
process.on('message', (m) => {
  if (m?.type === 'stop') {
    server.closeAllConnections();
    server.close(() => pool.close().then(() => process.exit(0)));
  }
  if (m?.type === 'gc') {
    globalThis.gc?.();
    process.send?.({ type: 'gc-done' });
  }
});
process.on('disconnect', () => process.exit(0));
