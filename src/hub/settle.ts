// Settles reservations exactly once, retrying through store faults; settle is idempotent, so retries never double-charge.
import type { Micros } from '../core/money.js';
import type { Reservation, SettleResult, SpendStore } from '../ports/spend.js';
import type { HubLogger } from './options.js';

const RETRY_DELAYS_MS = [20, 100, 400, 1_000];
/** How often settlements that failed every retry are tried again in the background. */
const BACKLOG_RETRY_MS = 5_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export class Settler {
  /** Settlements the store refused through every retry, kept until it answers again. */
  private readonly backlog = new Map<string, { reservation: Reservation; actual: Micros }>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly store: SpendStore, private readonly logger: HubLogger) {}

  /** Settles now if the store answers within the retries; otherwise queues it and resolves null. */
  async settle(reservation: Reservation, actual: Micros): Promise<SettleResult | null> {
    for (let i = 0; ; i++) {
      try {
        return await this.store.settle(reservation, actual);
      } catch (err) {
        if (i >= RETRY_DELAYS_MS.length) {
          this.logger.error('settlement failed; queued for retry', { requestId: reservation.requestId, error: String(err) });
          this.backlog.set(reservation.requestId, { reservation, actual });
          this.timer ??= setInterval(() => void this.retryBacklog(), BACKLOG_RETRY_MS).unref();
          return null;
        }
        await sleep(RETRY_DELAYS_MS[i]!);
      }
    }
  }

  get pending(): number {
    return this.backlog.size;
  }

  /** Tries every queued settlement once; keeps what still fails. */
  async retryBacklog(): Promise<void> {
    for (const [id, { reservation, actual }] of this.backlog) {
      try {
        await this.store.settle(reservation, actual);
        this.backlog.delete(id);
      } catch {
        return; // store still down; try again on the next tick
      }
    }
    if (this.backlog.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  async close(): Promise<void> {
    await this.retryBacklog();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.backlog.size > 0) this.logger.error('unsettled reservations at shutdown', { count: this.backlog.size });
  }
}
