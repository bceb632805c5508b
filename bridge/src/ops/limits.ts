/**
 * Abuse limits, in memory and per replica: how many failed authentications a client may make, and how
 * often a failed authentication becomes a stored event. Both are bounded in memory whatever the traffic.
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

/** Lets an event through at most once per key per interval, and at most `maxPerInterval` in all. */
export class EventThrottle {
  private windowStart = 0;
  private total = 0;
  private readonly last = new Map<string, number>();

  constructor(
    private readonly intervalMs = 10_000,
    private readonly maxPerInterval = 30,
    private readonly now: () => number = Date.now,
  ) {}

  allow(key: string): boolean {
    const now = this.now();
    if (now - this.windowStart >= this.intervalMs) {
      this.windowStart = now;
      this.total = 0;
      // Entries older than the interval no longer block anything.
      for (const [k, at] of this.last) if (now - at >= this.intervalMs) this.last.delete(k);
    }
    const previous = this.last.get(key);
    if (previous !== undefined && now - previous < this.intervalMs) return false;
    if (this.total >= this.maxPerInterval) return false;
    this.total++;
    this.last.set(key, now);
    return true;
  }
}
