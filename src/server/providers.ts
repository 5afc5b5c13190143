// Providers of the standalone server: one per API key present in the environment.
import { anthropic } from '../providers/anthropic/index.js';
import { google } from '../providers/google/index.js';
import { openai } from '../providers/openai/index.js';
import type { Provider } from '../providers/types.js';
import type { ServerEnv } from './config.js';

/** A provider without a key is not configured and never routed to. Base URLs follow the official SDKs' conventions. */
export function buildProviders(env: ServerEnv): Provider[] {
  const out: Provider[] = [];
  if (env.OPENAI_API_KEY !== undefined) {
    out.push(openai({ apiKey: env.OPENAI_API_KEY, ...(env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}) }));
  }
  if (env.ANTHROPIC_API_KEY !== undefined) {
    out.push(anthropic({ apiKey: env.ANTHROPIC_API_KEY, ...(env.ANTHROPIC_BASE_URL ? { baseURL: env.ANTHROPIC_BASE_URL } : {}) }));
  }
  if (env.GEMINI_API_KEY !== undefined) {
    out.push(google({ apiKey: env.GEMINI_API_KEY, ...(env.GEMINI_BASE_URL ? { baseURL: env.GEMINI_BASE_URL } : {}) }));
  }
  return out;
}
