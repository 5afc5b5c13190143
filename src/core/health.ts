// Provider health: a provider that fails sits out a cooldown, so routing skips it "at that moment".

/** Why a provider was put in cooldown. */
export type FailureKind = 'connection' | 'timeout' | 'rate_limited' | 'server_error' | 'auth';

export interface ProviderHealthOptions {
  /** How long a failed provider is skipped. Default 15,000 ms. */
  cooldownMs?: number;
  /** How long a provider whose credentials were refused (401/403) is skipped. Default 60,000 ms. */
  authCooldownMs?: number;
  clock?: () => number;
}

export interface ProviderState {
  provider: string;
  coolingDown: boolean;
  /** Epoch ms the cooldown ends, or null. */
  until: number | null;
  lastFailure: FailureKind | null;
  consecutiveFailures: number;
}

/** In-process health of each provider; one per hub. */
export class ProviderHealth {
  private readonly cooldownMs: number;
  private readonly authCooldownMs: number;
  private readonly clock: () => number;
  private readonly states = new Map<string, { until: number; last: FailureKind | null; failures: number }>();

  constructor({ cooldownMs = 15_000, authCooldownMs = 60_000, clock = Date.now }: ProviderHealthOptions = {}) {
    this.cooldownMs = cooldownMs;
    this.authCooldownMs = authCooldownMs;
    this.clock = clock;
  }

  coolingDown(provider: string): boolean {
    const s = this.states.get(provider);
    return s !== undefined && s.until > this.clock();
  }

  fail(provider: string, kind: FailureKind): void {
    const s = this.states.get(provider) ?? { until: 0, last: null, failures: 0 };
    s.failures += 1;
    s.last = kind;
    s.until = this.clock() + (kind === 'auth' ? this.authCooldownMs : this.cooldownMs);
    this.states.set(provider, s);
  }

  succeed(provider: string): void {
    const s = this.states.get(provider);
    if (s !== undefined && s.failures !== 0) this.states.set(provider, { until: 0, last: s.last, failures: 0 });
  }

  state(provider: string): ProviderState {
    const s = this.states.get(provider);
    const cooling = this.coolingDown(provider);
    return {
      provider,
      coolingDown: cooling,
      until: cooling ? s!.until : null,
      lastFailure: s?.last ?? null,
      consecutiveFailures: s?.failures ?? 0,
    };
  }
}
