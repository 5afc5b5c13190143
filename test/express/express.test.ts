// The Express binding suite on Express 5 (the `express` devDependency).
import { runExpressSuite } from './binding.suite.js';

runExpressSuite('Express 5', async () => (await import('express')).default as never, 5);
