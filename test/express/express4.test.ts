// The same Express binding suite on Express 4: every `import 'express'` in this file's graph (src/express included) gets Express 4.
import { vi } from 'vitest';
import { runExpressSuite } from './binding.suite.js';

vi.mock('express', async () => await import('express4'));

runExpressSuite('Express 4', async () => (await import('express')).default as never, 4);
