/** Provisioning-event retention: prune at start and then hourly. Every replica prunes; the delete is idempotent. */
import type { Store } from '../store/types';

const DAY_MS = 86_400_000;

export interface RetentionLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

/** Starts pruning events older than `days` (0: never); returns a function that stops it and waits for a running prune. */
export function startEventRetention(store: Store, days: number, log: RetentionLog, intervalMs = 3_600_000, now: () => number = Date.now): () => Promise<void> {
  if (days <= 0) return async () => undefined;
  let running: Promise<void> | undefined;
  const prune = () => {
    running ??= store
      .pruneEvents(new Date(now() - days * DAY_MS).toISOString())
      .then(
        (deleted) => {
          if (deleted > 0) log.info({ deleted, retentionDays: days }, 'pruned provisioning events');
        },
        (error: Error) => log.warn({ reason: error.message }, 'pruning provisioning events failed; retrying at the next interval'),
      )
      .finally(() => {
        running = undefined;
      });
  };
  prune();
  const timer = setInterval(prune, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
