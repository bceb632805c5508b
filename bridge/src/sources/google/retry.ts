/**
 * Google's API errors and the retry policy Google documents for them: exponential backoff with jitter on 429,
 * 403 rateLimitExceeded / userRateLimitExceeded / quotaExceeded and 5xx, a bounded number of attempts, and
 * nothing retried that a retry cannot fix (a 403 forbidden, a 404, a bad request).
 * (developers.google.com/admin-sdk/directory/v1/limits)
 */

/** A failed call to Google: status, Google's `reason` (from `error.errors[0].reason`) and its message. */
export class GoogleApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string | undefined,
    message: string,
    /** Seconds from a Retry-After header, when Google sent one. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'GoogleApiError';
  }
}

/** Reasons Google gives on a 403 that mean "slow down", not "no". */
export const RATE_LIMIT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded']);

export function isRetryable(error: unknown): boolean {
  if (error instanceof GoogleApiError) {
    if (error.status === 429 || error.status >= 500) return true;
    return error.status === 403 && error.reason !== undefined && RATE_LIMIT_REASONS.has(error.reason);
  }
  // fetch's own failures (connection refused or reset, DNS, our per-request timeout) are transient.
  return error instanceof TypeError || (error as Error)?.name === 'TimeoutError';
}

export interface RetryPolicy {
  /** Tries in all, the first included. @default 6 */
  readonly attempts?: number;
  /** First wait's ceiling, doubled each time. @default 500 ms */
  readonly baseMs?: number;
  /** No wait is longer than this. @default 32 s */
  readonly maxMs?: number;
  /** Waits `ms`; tests pass a fake. Rejects when `signal` aborts. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** A number in [0, 1); tests pass a fixed one. @default Math.random */
  readonly random?: () => number;
  /** Told about each retry (for the log). */
  readonly onRetry?: (error: unknown, attempt: number, waitMs: number) => void;
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Waits before retry `attempt` (1-based): "full jitter", a random time up to base·2^(attempt-1), capped; at least what
 * Retry-After asked for.
 */
export function backoffMs(attempt: number, error: unknown, policy: RetryPolicy = {}): number {
  const base = policy.baseMs ?? 500;
  const max = policy.maxMs ?? 32_000;
  const ceiling = Math.min(max, base * 2 ** (attempt - 1));
  const jittered = Math.floor((policy.random ?? Math.random)() * ceiling);
  const asked = error instanceof GoogleApiError && error.retryAfterSeconds ? Math.min(max, error.retryAfterSeconds * 1000) : 0;
  return Math.max(jittered, asked);
}

export async function withRetry<T>(call: () => Promise<T>, policy: RetryPolicy = {}, signal?: AbortSignal): Promise<T> {
  const attempts = policy.attempts ?? 6;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (signal?.aborted || attempt >= attempts || !isRetryable(error)) throw error;
      const wait = backoffMs(attempt, error, policy);
      policy.onRetry?.(error, attempt, wait);
      await (policy.sleep ?? sleep)(wait, signal);
    }
  }
}
