// An existing Express app — its own pages, login and cookie sessions — that mounts TokenHub under /ai for signed-in users.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { createTokenHub, hostIdentityKeys, memoryStorage } from '../../src/index.js';
import { expressAdminRoutes, expressRoutes } from '../../src/express/index.js';
import { providersFromEnv } from '../shared/upstream.js';

interface User { name: string; team: string; admin: boolean }
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express { interface Request { user?: User } } // as passport declares it
}
const USERS: Record<string, User & { password: string }> = {
  alice: { name: 'alice', password: 'wonderland', team: 'team-red', admin: false },
  bob: { name: 'bob', password: 'builder', team: 'team-blue', admin: true },
};
const sessions = new Map<string, User>();

// TokenHub: caps and usage per team, with no TokenHub keys for anyone to handle.
const upstream = await providersFromEnv();
const hub = createTokenHub({
  providers: upstream.providers,
  storage: memoryStorage(), // sqliteStorage({ path: 'data/tokenhub.db' }) to keep spend across restarts
  authorizeAdmin: (req) => (req as Request).user?.admin === true, // the admin API, for the app's admins
});
const teams = hostIdentityKeys(hub, { defaults: { monthlyLimitUsd: 20 } }); // a $20/month key per team, made on first use

const app = express();
// The app's session auth (passport would set req.user the same way).
app.use((req, _res, next) => {
  const sid = /(?:^|;\s*)sid=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
  req.user = sessions.get(sid ?? '');
  next();
});
app.get('/', (req, res) => void res.json({ app: 'express-app', user: req.user?.name ?? null }));
// A route-level body parser: TokenHub reads its own bodies, with its own limit.
app.post('/login', express.json(), (req, res) => {
  const found = USERS[String(req.body?.user)];
  if (found === undefined || found.password !== req.body?.password) return void res.status(401).json({ error: 'wrong user or password' });
  const sid = randomUUID();
  sessions.set(sid, { name: found.name, team: found.team, admin: found.admin });
  res.cookie('sid', sid, { httpOnly: true, sameSite: 'lax' }).json({ ok: true });
});

// Everything under /ai is for signed-in users only; TokenHub then bills the user's team.
const signedIn = (req: Request, res: Response, next: NextFunction) =>
  req.user !== undefined ? next() : void res.status(401).json({ error: { message: 'Sign in first.', type: 'invalid_request_error', param: null, code: 'not_signed_in' } });
app.use('/ai', signedIn, expressRoutes(hub, { auth: { resolve: (req) => teams.keyFor(req.user?.team) } }), expressAdminRoutes(hub));

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`express-app listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
const stop = async () => {
  server.close();
  server.closeIdleConnections();
  await hub.close(); // lets in-flight requests finish, settles spend, flushes usage
  await upstream.close();
  process.exit(0);
};
process.once('SIGTERM', stop).once('SIGINT', stop);
