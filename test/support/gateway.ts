// Starts a real gateway (Koa app with routes() and adminRoutes()) on a loopback port for end-to-end tests.
import Koa from 'koa';
import { afterAll, afterEach, beforeAll } from 'vitest';
import OpenAI from 'openai';
import { createTokenHub, memoryStorage, openai, type HubOptions, type TokenHubInstance } from '../../src/index.js';
import { startOpenAIStandin, type OpenAIStandin } from './openai-standin.js';
import { listen } from './http.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestGateway {
  url: string;
  /** `${url}/v1`, for the OpenAI SDK. */
  baseURL: string;
  hub: TokenHubInstance;
  /** Calls the admin API with the admin token. */
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Creates a key through the admin API; returns its id and secret. */
  createKey(body?: { name?: string; monthlyLimitUsd?: number | null; allowedModels?: string[] }): Promise<{ id: string; key: string }>;
  /** An official OpenAI SDK client pointed at the gateway with `key`; retries off so tests see every answer. */
  client(key: string, extra?: ConstructorParameters<typeof OpenAI>[0]): OpenAI;
  close(): Promise<void>;
}

export async function startGateway(options: Partial<HubOptions> = {}): Promise<TestGateway> {
  const hub = createTokenHub({
    storage: memoryStorage(),
    adminToken: ADMIN_TOKEN,
    usageFlushMs: 10,
    logger: { info() {}, warn() {}, error() {} },
    ...options,
  });
  const app = new Koa();
  app.use(hub.routes());
  app.use(hub.adminRoutes());
  const server = await listen(app.callback());
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(server.url + path, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? null : JSON.parse(text) };
  };
  return {
    url: server.url,
    baseURL: `${server.url}/v1`,
    hub,
    admin,
    async createKey(body = {}) {
      const res = await admin('POST', '/admin/keys', { name: 'test', ...body });
      if (res.status !== 201) throw new Error(`createKey: ${res.status} ${JSON.stringify(res.body)}`);
      return { id: res.body.id, key: res.body.key };
    },
    client: (key, extra = {}) => new OpenAI({ apiKey: key, baseURL: `${server.url}/v1`, maxRetries: 0, ...extra }),
    async close() {
      await server.close();
      await hub.close(1_000);
    },
  };
}

/**
 * The common fixture: an OpenAI stand-in and a gateway in front of it, started before the file's tests
 * and closed after them; the stand-in's switches are reset after each test. Read `fixture.upstream` / `fixture.gw` inside tests.
 */
export function useOpenAIGateway(options: Partial<HubOptions> = {}) {
  const fixture = {} as { upstream: OpenAIStandin; gw: TestGateway };
  beforeAll(async () => {
    fixture.upstream = await startOpenAIStandin();
    fixture.gw = await startGateway({ providers: [openai({ apiKey: fixture.upstream.apiKey, baseURL: fixture.upstream.baseURL })], ...options });
  });
  afterAll(async () => {
    await fixture.gw?.close();
    await fixture.upstream?.close();
  });
  afterEach(() => fixture.upstream.reset());
  return fixture;
}
