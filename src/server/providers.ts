// Providers of the standalone server: one per API key present in the environment.
import { openai } from '../providers/openai/index.js';
import type { Provider } from '../providers/types.js';
import type { ServerEnv } from './config.js';

/** A provider without a key is not configured and never routed to. */
export function buildProviders(env: ServerEnv): Provider[] {
  const out: Provider[] = [];
  if (env.OPENAI_API_KEY !== undefined) {
    out.push(openai({ apiKey: env.OPENAI_API_KEY, ...(env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}) }));
  }
  return out;
}
