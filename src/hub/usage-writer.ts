// Batches usage records off the request path; retries a failed batch and flushes everything on close.
import type { UsageRecord, UsageStore } from '../ports/usage.js';
import type { HubLogger } from './options.js';

export class UsageWriter {
  private queue: UsageRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private failures = 0;

  constructor(
    private readonly store: UsageStore,
    private readonly batchSize: number,
    private readonly flushMs: number,
    private readonly logger: HubLogger,
  ) {}

  /** Queues a record; it is written within `flushMs`, or at once when a batch fills. */
  add(record: UsageRecord): void {
    this.queue.push(record);
    // flush() logs and re-queues on failure; nothing to do with the rejection here.
    if (this.queue.length >= this.batchSize) this.flush().catch(() => undefined);
    else this.timer ??= setTimeout(() => this.flush().catch(() => undefined), this.flushMs);
  }

  /** Records not yet written. */
  get pending(): number {
    return this.queue.length;
  }

  /** Writes everything queued; resolves when it is durable (or rejects with the store's error, records kept). */
  async flush(): Promise<void> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.flushing !== null) await this.flushing;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.flushing = (async () => {
      try {
        await this.store.insert(batch);
        this.failures = 0;
      } catch (err) {
        // Put the batch back in front; inserts are idempotent by id, so a retry never duplicates.
        this.queue = batch.concat(this.queue);
        this.failures += 1;
        this.logger.error('usage write failed; will retry', { records: batch.length, failures: this.failures, error: String(err) });
        const backoff = Math.min(this.flushMs * 2 ** this.failures, 30_000);
        this.timer ??= setTimeout(() => this.flush().catch(() => undefined), backoff).unref();
        throw err;
      } finally {
        this.flushing = null;
      }
    })();
    await this.flushing;
  }

  /** Stops the timer after a final flush. */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      // Also when the final flush failed: no retry timer may outlive the hub (the records were logged as lost).
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
      if (this.queue.length > 0) this.logger.error('usage records not written at shutdown', { records: this.queue.length });
    }
  }
}
