/**
 * When a failed delivery is tried again. Exponential (5 s, doubling, at most an hour apart) with ±20 % jitter, so
 * endpoints that failed together do not all come back in the same second; a `429` or `503` with `Retry-After` waits
 * at least that long (capped at the hour, so a far-off value cannot park an endpoint for good). The window runs
 * from the head change's first failure: once it is over (26 hours by default, more than a day so a receiver down
 * for a whole day still gets everything), the head change is dead-lettered and the endpoint waits for `redrive`.
 *
 * With the defaults the attempts come at about 0 s, 5 s, 15 s, 35 s, 75 s, 2.5 min, 5 min, 10 min, 21 min, 42 min,
 * then hourly: about 34 attempts within the window.
 */
export interface RetrySchedule {
  /** The first wait. @default 5000 */
  readonly baseMs: number;
  /** The longest wait between two attempts. @default 3_600_000 */
  readonly maxMs: number;
  /** From the head change's first failure to its dead letter. @default 26 hours */
  readonly windowMs: number;
  /** ± this fraction of each wait, at random. @default 0.2 */
  readonly jitter: number;
}

/** The longest `Retry-After` honoured: a far-off value cannot park an endpoint for good. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

export const DEFAULT_RETRY: RetrySchedule = { baseMs: 5_000, maxMs: 3_600_000, windowMs: 26 * 3_600_000, jitter: 0.2 };

/** The wait after the `attempts`-th failed attempt (1 for the first failure). */
export function retryDelayMs(attempts: number, schedule: RetrySchedule = DEFAULT_RETRY, retryAfterMs?: number, random: () => number = Math.random): number {
  const exponential = Math.min(schedule.maxMs, schedule.baseMs * 2 ** Math.max(0, Math.min(attempts - 1, 40)));
  const jittered = exponential * (1 + schedule.jitter * (2 * random() - 1));
  const floor = retryAfterMs !== undefined ? Math.min(MAX_RETRY_AFTER_MS, retryAfterMs) : 0;
  return Math.round(Math.max(jittered, floor));
}

/**
 * A `Retry-After` header (seconds, or an HTTP date) as milliseconds from `now`; undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\s*\d+\s*$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Whether the head change's failures have outlasted the window: then it is dead-lettered. */
export function windowOver(failingSinceMs: number, nowMs: number, schedule: RetrySchedule = DEFAULT_RETRY): boolean {
  return nowMs - failingSinceMs >= schedule.windowMs;
}
