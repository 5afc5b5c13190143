// Money as integer micro-USD: counters never hold floating dollars.

/** An amount of money in integer micro-USD (1 USD = 1,000,000). */
export type Micros = number & { readonly __unit: 'micro-usd' };

/** Micro-USD in one US dollar. */
export const MICROS_PER_USD = 1_000_000;

/** Brands a whole number of micro-USD; rounds up, so a fraction is never dropped. */
export function micros(n: number): Micros {
  return Math.ceil(n) as Micros;
}

/** Converts dollars (as users write them in limits) to micro-USD, rounded to the nearest micro. */
export function usdToMicros(usd: number): Micros {
  return Math.round(usd * MICROS_PER_USD) as Micros;
}

/** Converts micro-USD to dollars for display and JSON answers. */
export function microsToUsd(m: number): number {
  return m / MICROS_PER_USD;
}

/** Formats micro-USD as a fixed six-decimal dollar string, the form used in response headers. */
export function formatUsd(m: number): string {
  return microsToUsd(m).toFixed(6);
}
