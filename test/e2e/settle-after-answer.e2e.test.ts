// A JSON answer does not wait for its settle: the cost is known from the answer, the store catches up after.
import { describe, expect, it } from 'vitest';
import { memoryStorage } from '../../src/index.js';
import type { SpendStore } from '../../src/ports/spend.js';
import { useOpenAIGateway } from '../support/gateway.js';

const storage = memoryStorage();
/** Settles wait at this gate until the test opens it, as on a slow or distant store: no timing in the test. */
let open!: () => void;
let gate = Promise.resolve();
const closeGate = () => (gate = new Promise<void>((r) => (open = r)));
const slowSettles: SpendStore = {
  reserve: (r, limit) => storage.spend.reserve(r, limit),
  ledger: (keyId, month) => storage.spend.ledger(keyId, month),
  settle: async (r, actual) => {
    await gate;
    return storage.spend.settle(r, actual);
  },
};
const settled = async (id: string) => (await storage.spend.ledger(id, month())).spent > 0;
const fixture = useOpenAIGateway({ storage: { ...storage, spend: slowSettles } });

const body = { model: 'openai/gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Say hi' }], max_tokens: 20 };
const month = () => new Date().toISOString().slice(0, 7);

describe('settling after the answer', () => {
  it('sends a JSON answer with its cost and remaining budget before the settle lands; admin reads and shutdown wait for it', async () => {
    const { id, key } = await fixture.gw.createKey({ monthlyLimitUsd: 1 });
    closeGate();
    // The answer arrives while its settle cannot land.
    const { data, response } = await fixture.gw.client(key).chat.completions.create(body).withResponse();
    expect(data.choices[0]?.message.content).toBeTruthy();
    const cost = Number(response.headers.get('x-inferoute-cost-usd'));
    expect(cost).toBeGreaterThan(0);
    // The remaining budget is what the settle will leave: the hold gives way to the cost.
    expect(response.headers.get('x-inferoute-spend-remaining-usd')).toBe((1 - cost).toFixed(6));
    // Right now the request still holds its worst case: over-held, never under.
    const inFlight = await storage.spend.ledger(id, month());
    expect(inFlight.reserved).toBeGreaterThan(0);
    expect(inFlight.spent).toBe(0);

    // The admin API waits for the settle under way, so it shows the answered request.
    let read = false;
    const reading = fixture.gw.admin('GET', `/admin/keys/${id}`).finally(() => (read = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(read).toBe(false);
    expect(await settled(id)).toBe(false);
    open();
    const shown = await reading;
    expect(shown.body.monthSpendUsd).toBe(cost);
    expect(await storage.spend.ledger(id, month())).toEqual({ spent: Math.round(cost * 1e6), reserved: 0 });
  });

  it('drains a settle still under way when the gateway closes', async () => {
    const { id, key } = await fixture.gw.createKey({ monthlyLimitUsd: 1 });
    closeGate();
    const { response } = await fixture.gw.client(key).chat.completions.create(body).withResponse();
    expect((await storage.spend.ledger(id, month())).reserved).toBeGreaterThan(0);
    let closed = false;
    const closing = fixture.gw.hub.close(5_000).then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(false);
    open();
    await closing;
    const cost = Math.round(Number(response.headers.get('x-inferoute-cost-usd')) * 1e6);
    expect(await storage.spend.ledger(id, month())).toEqual({ spent: cost, reserved: 0 });
  });
});
