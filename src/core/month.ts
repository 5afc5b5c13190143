// Calendar months in UTC: the period a spend cap covers.

/** `YYYY-MM` of an instant, in UTC. */
export function monthOf(epochMs: number): string {
  const d = new Date(epochMs);
  const m = d.getUTCMonth() + 1;
  return `${d.getUTCFullYear()}-${m < 10 ? '0' : ''}${m}`;
}

/** Epoch ms at which the month after `month` (`YYYY-MM`) begins, in UTC. */
export function monthEnd(month: string): number {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return Date.UTC(y, m, 1);
}
