/**
 * Retention of provisioning events and of the change feed: pruned at start and then hourly. Every replica prunes;
 * each delete is idempotent.
 */
import type { Store } from '../store/types';

const DAY_MS = 86_400_000;

export interface RetentionLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

/** Runs `prune` now and every `intervalMs`, one at a time; returns a function that stops it and waits for a running prune. */
function startPruning(what: string, prune: () => Promise<number>, details: object, log: RetentionLog, intervalMs: number): () => Promise<void> {
  let running: Promise<void> | undefined;
  const run = () => {
    running ??= prune()
      .then(
        (deleted) => {
          if (deleted > 0) log.info({ deleted, ...details }, `pruned ${what}`);
        },
        (error: Error) => log.warn({ reason: error.message }, `pruning ${what} failed; retrying at the next interval`),
      )
      .finally(() => {
        running = undefined;
      });
  };
  run();
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

/** Starts pruning events older than `days` (0: never). */
export function startEventRetention(store: Store, days: number, log: RetentionLog, intervalMs = 3_600_000, now: () => number = Date.now): () => Promise<void> {
  if (days <= 0) return async () => undefined;
  return startPruning('provisioning events', () => store.pruneEvents(new Date(now() - days * DAY_MS).toISOString()), { retentionDays: days }, log, intervalMs);
}

/**
 * Starts pruning changes older than `days` (0: never), but never a change at or past `keepFrom()`: the lowest
 * position a subscriber (a webhook endpoint that is not removed) still has to receive.
 */
export function startChangeRetention(
  store: Store,
  days: number,
  keepFrom: () => Promise<number>,
  log: RetentionLog,
  intervalMs = 3_600_000,
  now: () => number = Date.now,
): () => Promise<void> {
  if (days <= 0) return async () => undefined;
  const prune = async () => store.pruneChanges(new Date(now() - days * DAY_MS).toISOString(), await keepFrom());
  return startPruning('changes of the feed', prune, { retentionDays: days }, log, intervalMs);
}
