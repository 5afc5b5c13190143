// Redis spend store: per key per UTC month counters shared by every gateway instance, one Lua script per change.
import { createHash } from 'node:crypto';
import { Redis, type Cluster, type RedisOptions } from 'ioredis';
import type { Micros } from '../../core/money.js';
import { monthEnd } from '../../core/month.js';
import type { MonthLedger, Reservation, ReserveResult, SettleResult, SpendStore } from '../../ports/spend.js';

/** Where the store finds Redis: the host's own client (standalone or cluster), or a URL it connects to itself. */
export type RedisConnection =
  | { client: Redis | Cluster }
  | {
      url: string;
      /**
       * Extra ioredis options for the client built from `url`. Defaults `maxRetriesPerRequest: 1`,
       * `connectTimeout: 2000` and `commandTimeout: 2000`, so a command fails within one reconnect attempt, or
       * two seconds against a host that hangs, and the gateway can answer 503 instead of waiting. (A reserve that
       * timed out after Redis ran it keeps its hold until the month's counters expire: fail closed, never over.)
       */
      redisOptions?: RedisOptions;
    };

export interface RedisSpendOptions {
  /** Prepended to every key this store writes. Default `'tokenhub:'`. */
  prefix?: string;
  /**
   * How long counters and reservations outlive their month (and their last write, for a month already past),
   * so late settlements and admin reads still find them. Default 35 days.
   */
  retainMs?: number;
}

/** A spend store backed by Redis; `close()` quits the client only when the store created it. */
export interface RedisSpendStore extends SpendStore {
  reserve(reservation: Reservation, limit: Micros | null): Promise<ReserveResult>;
  settle(reservation: Reservation, actual: Micros): Promise<SettleResult>;
  ledger(keyId: string, month: string): Promise<MonthLedger>;
  close(): Promise<void>;
}

const DAY_MS = 86_400_000;

// KEYS[1] month ledger hash, KEYS[2] reservation hash.
// ARGV: amount, limit ('' = uncapped), keyId, month, expire-at (unix seconds).
// Amounts travel as decimal strings: Lua formats numbers with 14 significant digits, so arithmetic results
// are never written back through tostring.
const RESERVE = `
if redis.call('EXISTS', KEYS[2]) == 1 then
  return redis.error_reply('ERR tokenhub: this request id is already reserved')
end
local l = redis.call('HMGET', KEYS[1], 'spent', 'reserved')
local spent = tonumber(l[1] or '0')
local reserved = tonumber(l[2] or '0')
if ARGV[2] ~= '' and spent + reserved + tonumber(ARGV[1]) > tonumber(ARGV[2]) then
  return {0, spent, reserved}
end
reserved = redis.call('HINCRBY', KEYS[1], 'reserved', ARGV[1])
redis.call('EXPIREAT', KEYS[1], ARGV[5])
redis.call('HSET', KEYS[2], 'keyId', ARGV[3], 'month', ARGV[4], 'amount', ARGV[1], 'state', 'reserved', 'expireAt', ARGV[5])
redis.call('EXPIREAT', KEYS[2], ARGV[5])
return {1, spent, reserved}
`;

// KEYS[1] reservation hash, KEYS[2] ledger of the month the caller names.
// ARGV: actual, the caller's month, ledger key without its month (same hash slot as KEYS[1]).
// The month charged is the one stored with the reservation, so a settlement after midnight on the 1st still
// lands in the old month.
const SETTLE = `
local h = redis.call('HMGET', KEYS[1], 'month', 'amount', 'state', 'expireAt')
if h[3] ~= 'reserved' then
  local l = redis.call('HMGET', KEYS[2], 'spent', 'reserved')
  return {0, tonumber(l[1] or '0'), tonumber(l[2] or '0')}
end
local ledger = KEYS[2]
if h[1] ~= ARGV[2] then ledger = ARGV[3] .. h[1] end
redis.call('HSET', KEYS[1], 'state', 'settled', 'actual', ARGV[1])
local reserved = redis.call('HINCRBY', ledger, 'reserved', '-' .. h[2])
local spent = redis.call('HINCRBY', ledger, 'spent', ARGV[1])
redis.call('EXPIREAT', ledger, h[4])
return {1, spent, reserved}
`;

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

function checkAmount(name: string, n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`${name} must be a non-negative integer of micro-USD, got ${n}`);
  return String(n);
}

function checkMonth(month: string): string {
  if (!MONTH.test(month)) throw new TypeError(`month must be YYYY-MM, got ${JSON.stringify(month)}`);
  return month;
}

/** Runs a script by its SHA-1 and loads it on NOSCRIPT (first use, or after a Redis restart or failover). */
function script(source: string) {
  const sha = createHash('sha1').update(source).digest('hex');
  return async (client: Redis | Cluster, keys: string[], args: string[]): Promise<unknown> => {
    try {
      return await client.evalsha(sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return client.eval(source, keys.length, ...keys, ...args);
    }
  };
}

const reserveScript = script(RESERVE);
const settleScript = script(SETTLE);

const ledgerOf = (reply: unknown): MonthLedger => {
  const [, spent, reserved] = reply as [number, number, number];
  return { spent: Number(spent) as Micros, reserved: Number(reserved) as Micros };
};

/**
 * Spend counters in Redis, so a cap holds across every gateway instance sharing it.
 * Each reserve and settle is one Lua script (one round trip, atomic); a settlement is applied once per request id.
 * Keys per key id share a hash slot, so the store also runs on Redis Cluster. Counters and reservations expire
 * `retainMs` (default 35 days) after their month ends. Defaults: prefix `'tokenhub:'`.
 */
export function redisSpendStore(connection: RedisConnection, { prefix = 'tokenhub:', retainMs = 35 * DAY_MS }: RedisSpendOptions = {}): RedisSpendStore {
  const owned = !('client' in connection);
  const client: Redis | Cluster = 'client' in connection
    ? connection.client
    : new Redis(connection.url, { maxRetriesPerRequest: 1, connectTimeout: 2_000, commandTimeout: 2_000, ...connection.redisOptions });
  // Without a listener ioredis prints every reconnect failure; failures reach callers as rejected commands.
  if (owned) client.on('error', () => {});

  const base = (keyId: string) => `${prefix}{${keyId}}:`;
  // EXPIREAT in the past deletes at once, so a past month (a clock set back in a test, a late retry) is kept from now.
  const expireAt = (month: string) => String(Math.ceil((Math.max(monthEnd(month), Date.now()) + retainMs) / 1000));

  return {
    async reserve(r, limit) {
      const month = checkMonth(r.month);
      const amount = checkAmount('amount', r.amount);
      const cap = limit === null ? '' : checkAmount('limit', limit);
      const reply = await reserveScript(client, [base(r.keyId) + month, `${base(r.keyId)}req:${r.requestId}`], [amount, cap, r.keyId, month, expireAt(month)]);
      const ledger = ledgerOf(reply);
      if ((reply as number[])[0] !== 1) return { ok: false, ledger };
      return { ok: true, reservation: { requestId: r.requestId, keyId: r.keyId, month, amount: r.amount }, ledger };
    },
    async settle(r, actual) {
      const month = checkMonth(r.month);
      const reply = await settleScript(client, [`${base(r.keyId)}req:${r.requestId}`, base(r.keyId) + month], [checkAmount('actual', actual), month, base(r.keyId)]);
      return { settled: (reply as number[])[0] === 1, ledger: ledgerOf(reply) };
    },
    async ledger(keyId, month) {
      const [spent, reserved] = await client.hmget(base(keyId) + checkMonth(month), 'spent', 'reserved');
      return { spent: Number(spent ?? 0) as Micros, reserved: Number(reserved ?? 0) as Micros };
    },
    async close() {
      if (owned && client.status !== 'end') await client.quit().catch(() => client.disconnect());
    },
  };
}
