// The Usage dashboard's files: read once at start-up, kept in memory, answered by any binding without a framework.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One file of the page, ready to send. */
export interface DashboardFile {
  body: Buffer;
  headers: Readonly<Record<string, string>>;
}

export interface DashboardOptions {
  /** Where the page is served. Default `/dashboard`. */
  path?: string;
  /** Prefix of the admin API the page calls. Default `/admin`. */
  apiPrefix?: string;
}

// The page talks only to its own origin and runs only its own scripts: no CDN, no inline code, no framing.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const ASSETS = join(dirname(fileURLToPath(import.meta.url)), 'assets');
let chartJs: Buffer | undefined;

/**
 * Chart.js's self-contained UMD build, found through the package's own entry (its `exports` hide `dist/`),
 * read once per process. The source-map comment goes: the map is not shipped, and a 404 in devtools helps no one.
 */
function chartLibrary(): Buffer {
  if (chartJs === undefined) {
    const entry = createRequire(import.meta.url).resolve('chart.js');
    const text = readFileSync(join(dirname(entry), 'chart.umd.min.js'), 'utf8');
    chartJs = Buffer.from(text.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'));
  }
  return chartJs;
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function file(body: Buffer, type: string): DashboardFile {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  // no-cache: browsers revalidate with the ETag, so a new release shows at once and an unchanged one costs a 304.
  return { body, headers: { 'content-type': type, 'cache-control': 'no-cache', etag, ...SECURITY_HEADERS } };
}

/**
 * The dashboard's files by URL path: the page at `path` (and `path/`), its script, stylesheet and chart library
 * beneath it. Everything is read and prepared here, once; a missing file throws now, not on the first visit.
 */
export function dashboardFiles({ path = '/dashboard', apiPrefix = '/admin' }: DashboardOptions = {}): ReadonlyMap<string, DashboardFile> {
  const base = path.replace(/\/+$/, '');
  const read = (name: string) => readFileSync(join(ASSETS, name), 'utf8');
  const html = read('index.html').replaceAll('{{API}}', escapeAttr(apiPrefix.replace(/\/+$/, ''))).replaceAll('{{BASE}}', escapeAttr(base));
  const page = file(Buffer.from(html), 'text/html; charset=utf-8');
  return new Map([
    [base, page],
    [`${base}/`, page],
    [`${base}/app.js`, file(Buffer.from(read('app.js')), 'text/javascript; charset=utf-8')],
    [`${base}/app.css`, file(Buffer.from(read('app.css')), 'text/css; charset=utf-8')],
    [`${base}/chart.umd.min.js`, file(chartLibrary(), 'text/javascript; charset=utf-8')],
  ]);
}

/** Whether a request's `If-None-Match` already names this file's version. */
export function notModified(f: DashboardFile, ifNoneMatch: string | undefined): boolean {
  return ifNoneMatch !== undefined && ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === f.headers.etag);
}
