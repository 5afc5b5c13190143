// Starts one of the SQLite adapter's worker scripts, from the build or from the sources.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Starts the worker script `name` next to this module, with this module's extension: `.js` in the build, `.ts` when
 * the sources run under vitest or tsx. Node 20 cannot load TypeScript by itself and does not hand its parent's loader
 * hooks to a worker, so from the sources the worker first registers tsx (a dev dependency; the build never needs it).
 * tsx's require hook, not its ESM one: that one starts a hooks thread per worker, 3-4x slower to start.
 */
export function spawnWorker(name: string, workerData: unknown): Worker {
  const self = new URL(import.meta.url);
  const ext = self.pathname.slice(self.pathname.lastIndexOf('.'));
  const script = new URL(`./${name}${ext}`, self);
  if (ext !== '.ts') return new Worker(script, { workerData });
  const tsx = createRequire(self).resolve('tsx/cjs/api');
  const boot = `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(fileURLToPath(script))});`;
  return new Worker(boot, { eval: true, workerData });
}

/**
 * Asks a worker to close its connection (`{ close: true }`, which every worker here answers with `{ closed: true }`
 * before it ends) and resolves with `closed`, the owner's promise of that answer or the worker's exit. The worker is
 * held meanwhile, so a caller awaiting this is not left behind by a process that thinks it is idle.
 */
export function closeWorker(worker: Worker, closed: Promise<void>): Promise<void> {
  worker.ref();
  worker.postMessage({ close: true });
  return closed.then(() => void worker.unref());
}
