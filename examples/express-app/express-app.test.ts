// Runs examples/express-app as a user would and uses it: its own pages, the session guard, TokenHub under /ai, per-team caps.
import { hostAppSuite } from '../shared/host-app.suite.js';

hostAppSuite('express-app');
