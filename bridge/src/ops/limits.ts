/**
 * Abuse limits, in memory and per replica: how many failed authentications a client may make, bounded in memory
 * whatever the traffic. (How often a refusal becomes a stored event: ops/event-budget.ts.)
 */

/** Counts failures per client in fixed windows; a client over the limit is told when to come back. */
export class FailureLimiter {
  private windowStart = 0;
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly limit: number,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
    /** Distinct clients remembered per window; past it, new ones share one bucket. */
    private readonly maxClients = 10_000,
  ) {}

  private roll(): number {
    const now = this.now();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.counts.clear();
    }
    return now;
  }

  private key(client: string): string {
    return this.counts.has(client) || this.counts.size < this.maxClients ? client : '(overflow)';
  }

  /** Seconds until the client may try again, or 0 when it is under the limit. */
  blockedFor(client: string): number {
    const now = this.roll();
    if ((this.counts.get(this.key(client)) ?? 0) < this.limit) return 0;
    return Math.max(1, Math.ceil((this.windowStart + this.windowMs - now) / 1000));
  }

  fail(client: string): void {
    this.roll();
    const key = this.key(client);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
}
