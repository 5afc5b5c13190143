// The options of createTokenHub, parsed once with their defaults written down.
import { z } from 'zod';
import type { Provider } from '../providers/types.js';
import type { Storage } from '../ports/storage.js';
import type { PricingSource } from '../ports/pricing.js';
import type { Transport } from '../transport/undici.js';
import type { Strategy } from '../core/strategy.js';
import type { Awaitable } from '../ports/awaitable.js';

const fn = <T>() => z.custom<T>((v) => typeof v === 'function');
const obj = <T>(what: string) => z.custom<T>((v) => typeof v === 'object' && v !== null, { message: `expected ${what}` });

/** A host's own check for admin requests, e.g. its session or SSO; receives the framework's request context. */
export type AdminAuthorizer = (ctx: unknown) => Awaitable<boolean>;

export const hubOptionsSchema = z.object({
  /** Configured providers; a model whose provider is absent is never routed to. */
  providers: z.array(obj<Provider>('a provider')).default([]),
  /** Keys, spend and usage stores. */
  storage: obj<Storage>('a Storage ({ keys, spend, usage })'),
  /** The catalog and prices. Default: `defaultPricing()`. */
  pricing: obj<PricingSource>('a PricingSource').optional(),
  /** Bearer token for the admin API. Default none: admin routes refuse everything unless `authorizeAdmin` is set. */
  adminToken: z.string().min(16, 'adminToken must be at least 16 characters').optional(),
  /** A host check that admits admin requests instead of (or besides) the token. */
  authorizeAdmin: fn<AdminAuthorizer>().optional(),
  /** Strategy for `model: "auto"` without a header. Default `balanced` (right-size by task; see docs/routing.md). */
  defaultStrategy: z.string().default('balanced'),
  /** Extra strategies by name. */
  strategies: z.record(z.string(), fn<Strategy>()).default({}),
  /** Extra aliases: model name → strategy name. */
  aliases: z.record(z.string(), z.string()).default({}),
  /** Most candidates tried per request (fallbacks included); also bounds the reservation. Default 3. */
  maxAttempts: z.number().int().min(1).max(10).default(3),
  /** Largest request body in bytes; larger ones get 413. Default 10 MB. */
  maxBodyBytes: z.number().int().positive().default(10 * 1024 * 1024),
  /** Cooldown after a provider failure, ms. Default 15,000. */
  cooldownMs: z.number().int().nonnegative().default(15_000),
  /** Cooldown after a provider refused our credentials (401/403), ms. Default 60,000. */
  authCooldownMs: z.number().int().nonnegative().default(60_000),
  /** Upstream timeouts, ms, and keep-alive sockets per upstream origin. Defaults: connect 10 s, first byte 120 s, idle 120 s; 256 sockets. */
  timeouts: z
    .object({
      connectMs: z.number().int().positive().optional(),
      firstByteMs: z.number().int().positive().optional(),
      idleMs: z.number().int().positive().optional(),
      connections: z.number().int().positive().optional(),
    })
    .default({}),
  /** How long a key lookup is cached in-process, ms; revocation through this hub clears it at once. Default 5,000. */
  keyCacheTtlMs: z.number().int().nonnegative().default(5_000),
  /** Keys held in the lookup cache. Default 10,000. */
  keyCacheSize: z.number().int().positive().default(10_000),
  /** When the spend store is down: false answers 503 (default); true admits and notes a warning in the usage record. */
  failOpen: z.boolean().default(false),
  /** Usage records written per batch, and the longest a record waits, ms. Defaults 200 and 250. */
  usageBatchSize: z.number().int().positive().default(200),
  usageFlushMs: z.number().int().positive().default(250),
  /** Send upstream requests through this instead of the built-in undici pool (tests, proxies). */
  transport: fn<Transport>().optional(),
  /** Where operational messages go (never keys or prompt text). Default `console`. */
  logger: obj<HubLogger>('a logger with info/warn/error').optional(),
  /** Clock, for tests. Default `Date.now`. */
  clock: fn<() => number>().optional(),
});

export type HubOptions = z.input<typeof hubOptionsSchema>;
export type ParsedHubOptions = z.output<typeof hubOptionsSchema>;

/** A minimal logger; messages carry ids and codes, never secrets or prompts. */
export interface HubLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Validates options at start-up; a misconfiguration throws here, not on the first request. */
export function parseHubOptions(options: HubOptions): ParsedHubOptions {
  const r = hubOptionsSchema.safeParse(options);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new TypeError(`createTokenHub: ${i.path.join('.') || 'options'}: ${i.message}`);
  }
  const names = new Set<string>();
  for (const p of r.data.providers) {
    if (names.has(p.name)) throw new TypeError(`createTokenHub: two providers are named "${p.name}"`);
    names.add(p.name);
  }
  return r.data;
}
