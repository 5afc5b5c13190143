// Providers for the examples: from the same variables as `npm start`, or a local OpenAI stand-in when none is set.
import { anthropic, google, openai, type Provider } from '../../src/index.js';

const env = (name: string) => (process.env[name]?.trim() ? process.env[name]!.trim() : undefined);

/**
 * OPENAI_API_KEY (+ OPENAI_BASE_URL, which includes /v1), ANTHROPIC_API_KEY (+ ANTHROPIC_BASE_URL),
 * GEMINI_API_KEY (+ GEMINI_BASE_URL). With none set, the examples still run: they answer from the
 * stand-in the tests use (test/support/openai-standin.ts), so `node --import tsx examples/…` works on a fresh clone.
 */
export async function providersFromEnv(): Promise<{ providers: Provider[]; close(): Promise<void> }> {
  const providers: Provider[] = [];
  const [oa, an, ge] = [env('OPENAI_API_KEY'), env('ANTHROPIC_API_KEY'), env('GEMINI_API_KEY')];
  if (oa) providers.push(openai({ apiKey: oa, ...(env('OPENAI_BASE_URL') ? { baseURL: env('OPENAI_BASE_URL') } : {}) }));
  if (an) providers.push(anthropic({ apiKey: an, ...(env('ANTHROPIC_BASE_URL') ? { baseURL: env('ANTHROPIC_BASE_URL') } : {}) }));
  if (ge) providers.push(google({ apiKey: ge, ...(env('GEMINI_BASE_URL') ? { baseURL: env('GEMINI_BASE_URL') } : {}) }));
  if (providers.length > 0) return { providers, close: async () => {} };

  const { startOpenAIStandin } = await import('../../test/support/openai-standin.js');
  const standin = await startOpenAIStandin();
  console.log('[example] no OPENAI_API_KEY, ANTHROPIC_API_KEY or GEMINI_API_KEY: answering from a local OpenAI stand-in');
  return { providers: [openai({ apiKey: standin.apiKey, baseURL: standin.baseURL })], close: () => standin.close() };
}
