// In-process storage: for tests and single-process demos; nothing survives a restart.
import type { Micros } from '../../core/money.js';
import type { KeyPatch, KeyRecord, KeyStore } from '../../ports/keys.js';
import type { MonthLedger, Reservation, ReserveResult, SettleResult, SpendStore } from '../../ports/spend.js';
import type { Storage } from '../../ports/storage.js';
import type { UsageQuery, UsageRecord, UsageStore } from '../../ports/usage.js';
import { aggregateRecords } from '../../core/aggregate.js';
import { heatmapOfRecords, seriesOfRecords, wasteGroupsOfRecords } from '../../core/analytics.js';

/** Keys in a Map; copies go in and out so callers cannot mutate the store. */
export function memoryKeyStore(): KeyStore {
  const byId = new Map<string, KeyRecord>();
  const idByHash = new Map<string, string>();
  const copy = (r: KeyRecord | undefined): KeyRecord | null =>
    r === undefined ? null : structuredClone(r);
  return {
    create(record) {
      if (byId.has(record.id) || idByHash.has(record.hash)) throw new Error(`key ${record.id} already exists`);
      byId.set(record.id, copy(record)!);
      idByHash.set(record.hash, record.id);
    },
    findByHash: (hash) => copy(byId.get(idByHash.get(hash) ?? '')),
    get: (id) => copy(byId.get(id)),
    // Oldest by createdAt (ISO strings order as instants); the stable sort keeps creation order for ties.
    list: () =>
      [...byId.values()]
        .filter((r) => r.revokedAt === null)
        .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0))
        .map((r) => copy(r)!),
    update(id, patch: KeyPatch) {
      const r = byId.get(id);
      if (r === undefined || r.revokedAt !== null) return null;
      // A field given as undefined is absent, not a new value; the patch's arrays and objects are copied, not kept.
      const given = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as KeyPatch;
      const next = copy({ ...r, ...given })!;
      byId.set(id, next);
      return copy(next);
    },
    revoke(id, at) {
      const r = byId.get(id);
      if (r === undefined || r.revokedAt !== null) return false;
      byId.set(id, { ...r, revokedAt: at });
      return true;
    },
  };
}

/** Spend ledger in Maps; each method runs to completion on the event loop, which makes it atomic. */
export function memorySpendStore(): SpendStore {
  const ledgers = new Map<string, { spent: number; reserved: number }>();
  const open = new Map<string, Reservation>();
  const settled = new Set<string>();
  const slot = (keyId: string, month: string) => {
    const k = `${keyId}\u0000${month}`;
    let l = ledgers.get(k);
    if (l === undefined) ledgers.set(k, (l = { spent: 0, reserved: 0 }));
    return l;
  };
  const view = (l: { spent: number; reserved: number }): MonthLedger => ({ spent: l.spent as Micros, reserved: l.reserved as Micros });
  return {
    reserve(r, limit): ReserveResult {
      const l = slot(r.keyId, r.month);
      if (open.has(r.requestId) || settled.has(r.requestId)) throw new Error(`request ${r.requestId} already reserved`);
      if (limit !== null && l.spent + l.reserved + r.amount > limit) return { ok: false, ledger: view(l) };
      l.reserved += r.amount;
      open.set(r.requestId, { ...r });
      return { ok: true, reservation: { ...r }, ledger: view(l) };
    },
    settle(r, actual): SettleResult {
      const held = open.get(r.requestId);
      if (held === undefined) return { settled: false, ledger: view(slot(r.keyId, r.month)) };
      const l = slot(held.keyId, held.month);
      open.delete(r.requestId);
      settled.add(r.requestId);
      l.reserved -= held.amount;
      l.spent += actual;
      return { settled: true, ledger: view(l) };
    },
    ledger: (keyId, month) => view(slot(keyId, month)),
  };
}

/** Usage records in an array; aggregation scans it (fine for tests, not for a million rows). */
export function memoryUsageStore(): UsageStore {
  const records: UsageRecord[] = [];
  const ids = new Set<string>();
  return {
    insert(batch) {
      for (const r of batch) {
        if (ids.has(r.id)) continue;
        ids.add(r.id);
        records.push({ ...r, providersTried: [...r.providersTried] });
      }
    },
    aggregate: (q: UsageQuery) => aggregateRecords(records, q),
    series: (q, options) => seriesOfRecords(records, q, options),
    heatmap: (q) => heatmapOfRecords(records, q),
    wasteGroups: (q, options) => wasteGroupsOfRecords(records, q, options),
    get: (id) => {
      const r = records.find((x) => x.id === id);
      return r === undefined ? null : { ...r, providersTried: [...r.providersTried] };
    },
  };
}

/** All three stores in memory. */
export function memoryStorage(): Storage {
  return { keys: memoryKeyStore(), spend: memorySpendStore(), usage: memoryUsageStore() };
}
