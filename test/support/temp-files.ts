// A folder of throwaway database files for one test file: made when asked for, removed after the file's tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/** A folder named after `prefix`, removed after the calling test file's tests; `fresh()` names a new file in it. */
export function tempFiles(prefix: string): { fresh: () => string; path: (...parts: string[]) => string } {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let files = 0;
  return {
    fresh: () => join(dir, `${++files}.db`),
    path: (...parts) => join(dir, ...parts),
  };
}
