// A SaaS backend with one TokenHub key per customer, each capped by its plan; a customer over budget gets a friendly 402.
import type { AddressInfo } from 'node:net';
import express from 'express';
import OpenAI from 'openai';
import { createTokenHub, memoryStorage, usdToMicros } from '../../src/index.js';
import { expressRoutes } from '../../src/express/index.js';
import { providersFromEnv } from '../shared/upstream.js';

const PLANS = { free: 0.05, pro: 25 } as const; // monthly AI budget per customer, USD
const CUSTOMERS = { 'tiny-startup': 'free', acme: 'pro' } as const satisfies Record<string, keyof typeof PLANS>;

const upstream = await providersFromEnv();
const hub = createTokenHub({ providers: upstream.providers, storage: memoryStorage() });
// One key per customer, capped by its plan (at sign-up in a real app; the secret then lives in your database).
const keyOf = new Map<string, string>();
for (const [customer, plan] of Object.entries(CUSTOMERS)) {
  const { secret } = await hub.engine.keys.create({
    name: customer,
    monthlyLimit: usdToMicros(PLANS[plan]),
    allowedModels: null,
    settings: { labels: { customer, plan } },
  });
  keyOf.set(customer, secret);
}

const app = express();
app.use(expressRoutes(hub)); // the gateway itself, at /v1 (other services can call it too)

// The product endpoint: calls the gateway with the customer's own key, as any OpenAI client would.
app.post('/customers/:id/summarize', express.json(), async (req, res) => {
  const key = keyOf.get(req.params.id);
  if (key === undefined) return void res.status(404).json({ error: 'no such customer' });
  const ai = new OpenAI({ apiKey: key, baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` });
  try {
    const { data, response } = await ai.chat.completions
      .create({ model: 'economy', max_tokens: 300, messages: [{ role: 'user', content: `Summarize: ${String(req.body?.text)}` }] })
      .withResponse();
    res.json({ summary: data.choices[0]?.message.content, budgetLeftUsd: Number(response.headers.get('x-inferoute-spend-remaining-usd')) });
  } catch (err) {
    // The cap: TokenHub answers 429 spend_limit_exceeded (with x-should-retry: false, so the SDK does not retry).
    if (err instanceof OpenAI.APIError && err.code === 'spend_limit_exceeded') {
      const plan = CUSTOMERS[req.params.id as keyof typeof CUSTOMERS];
      return void res.status(402).json({ error: `This month's AI budget of the ${plan} plan ($${PLANS[plan]}) is used up.`, upgrade: '/billing' });
    }
    res.status(502).json({ error: 'The AI service is unavailable; try again later.' });
  }
});

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`multi-tenant-caps listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
const stop = async () => {
  server.close();
  server.closeIdleConnections();
  await hub.close();
  await upstream.close();
  process.exit(0);
};
process.once('SIGTERM', stop).once('SIGINT', stop);
