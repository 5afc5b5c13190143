// The analytics worker: runs the usage store's read-only statements on its own read-only connection to the file.
import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { statements, type ReaderConfig, type ReaderReply, type ReaderRequest } from './reader.js';

const port = parentPort;
if (port === null) throw new Error('read-worker runs as a worker thread of the SQLite adapter');

const config = workerData as ReaderConfig;
// readonly: a statement sent here can never change the file, whatever its text; the writer stays on the main thread.
const db = new BetterSqlite3(config.path, { readonly: true, fileMustExist: true, timeout: config.busyTimeoutMs });
for (const pragma of config.pragmas) db.pragma(pragma);
const prepare = statements(db);

port.on('message', (m: ReaderRequest) => {
  if ('close' in m) {
    db.close();
    port.postMessage({ closed: true } satisfies ReaderReply);
    port.close();
    return;
  }
  let reply: ReaderReply;
  try {
    reply = { id: m.id, rows: prepare(m.sql).all(m.params) };
  } catch (err) {
    // An SQL error answers its own call; the worker and its connection stay up for the next.
    const e = err as Error & { code?: unknown };
    reply = { id: m.id, error: { name: e.name, message: e.message, ...(typeof e.code === 'string' ? { code: e.code } : {}) } };
  }
  port.postMessage(reply);
});
