/**
 * Runs the sync on a schedule, on exactly one replica: every replica ticks, the one holding the lease in the store
 * syncs (and renews the lease while it works), the others stand by and take over within a lease's lifetime if it
 * dies. The cadence and the last run live in the store too, so a takeover neither syncs twice nor loses the status.
 */
import { hostname } from 'node:os';
import type { Directory } from '../../directory/directory';
import type { SyncStatus } from '../../ops/metrics';
import type { Store } from '../../store/types';
import { TokenSource } from './auth';
import { GOOGLE_SCOPES, type GoogleConfig } from './config';
import { DirectoryClient } from './directory-client';
import type { RetryPolicy } from './retry';
import { STATE_KEYS, type SyncRun, runSync } from './sync';

export const SYNC_LEASE = 'google-workspace-sync';

export interface RunnerLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface RunnerOptions {
  readonly config: GoogleConfig;
  readonly directory: Directory;
  readonly store: Store;
  readonly log: RunnerLog;
  readonly version?: string;
  /** Lease lifetime. @default three intervals, between 3 s and 60 s */
  readonly leaseMs?: number;
  readonly retry?: RetryPolicy;
  readonly now?: () => number;
}

export class GoogleSyncRunner {
  readonly holder = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  private readonly intervalMs: number;
  private readonly leaseMs: number;
  private readonly client: DirectoryClient;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private abort?: AbortController;
  private stopped = false;
  private leader = false;
  private syncing = false;
  private lastRun: SyncRun | null = null;
  private lastSuccessAt: string | null = null;

  constructor(private readonly options: RunnerOptions) {
    this.intervalMs = options.config.syncIntervalSeconds * 1000;
    this.leaseMs = options.leaseMs ?? Math.min(60_000, Math.max(3_000, 3 * this.intervalMs));
    const userAgent = `scim-bridge/${options.version ?? 'dev'} (google-workspace)`;
    const retry: RetryPolicy = {
      ...options.retry,
      onRetry: (error, attempt, waitMs) => options.log.warn({ reason: (error as Error).message, attempt, waitMs }, 'Google Workspace request failed; retrying'),
    };
    const tokens = new TokenSource({
      key: options.config.credentials,
      subject: options.config.adminEmail,
      scopes: GOOGLE_SCOPES,
      retry,
      userAgent,
      now: options.now,
    });
    this.client = new DirectoryClient({ baseUrl: options.config.directoryUrl, tokens, retry, userAgent });
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Checks the lease at most every third of its lifetime, and at least once per interval. */
  private get tickMs(): number {
    return Math.max(250, Math.min(this.intervalMs, Math.floor(this.leaseMs / 3)));
  }

  start(): void {
    this.options.log.info(
      {
        groups: this.options.config.groups,
        intervalSeconds: this.options.config.syncIntervalSeconds,
        admin: this.options.config.adminEmail,
        credentials: this.options.config.credentialsSource,
        holder: this.holder,
      },
      'Google Workspace sync configured',
    );
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
        this.schedule(this.tickMs);
      });
    }, ms);
    this.timer.unref();
  }

  /** One step: hold or seek the lease, refresh the shared status, and sync when one is due. */
  async tick(): Promise<void> {
    try {
      const wasLeader = this.leader;
      this.leader = await this.options.store.tryAcquireLease(SYNC_LEASE, this.holder, this.leaseMs);
      if (this.leader !== wasLeader)
        this.options.log.info({ holder: this.holder }, this.leader ? 'took the Google Workspace sync lease' : 'lost the Google Workspace sync lease');
      await this.readShared();
      if (!this.leader || this.stopped) return;
      const lastStart = this.lastRun ? Date.parse(this.lastRun.startedAt) : undefined;
      if (lastStart !== undefined && this.now() - lastStart < this.intervalMs) return;
      await this.syncOnce();
    } catch (error) {
      // The store is unreachable, say: the next tick tries again.
      this.options.log.warn({ reason: (error as Error).message }, 'Google Workspace sync step failed; retrying at the next tick');
    }
  }

  private async readShared(): Promise<void> {
    const [run, success] = await Promise.all([this.options.store.getState(STATE_KEYS.lastRun), this.options.store.getState(STATE_KEYS.lastSuccess)]);
    if (run) this.lastRun = JSON.parse(run) as SyncRun;
    if (success) this.lastSuccessAt = success;
  }

  /** Runs one sync now, renewing the lease while it works; the sync stops at its next step if the lease is lost. */
  private async syncOnce(): Promise<void> {
    this.abort = new AbortController();
    this.syncing = true;
    const renew = setInterval(
      () => {
        this.options.store.tryAcquireLease(SYNC_LEASE, this.holder, this.leaseMs).then(
          (held) => {
            if (!held) this.abort?.abort(new Error('the sync lease passed to another replica'));
          },
          () => undefined, // the store is briefly away: the lease has time left, and the sync's own writes will fail if not
        );
      },
      Math.max(100, Math.floor(this.leaseMs / 3)),
    );
    try {
      const run = await runSync({
        client: this.client,
        directory: this.options.directory,
        store: this.options.store,
        groups: this.options.config.groups,
        replica: this.holder,
        now: this.options.now,
        signal: this.abort.signal,
      });
      this.lastRun = run;
      if (run.outcome === 'success') this.lastSuccessAt = run.finishedAt;
      await this.options.store.setState(STATE_KEYS.lastRun, JSON.stringify(run));
      if (run.outcome === 'success') await this.options.store.setState(STATE_KEYS.lastSuccess, run.finishedAt);
      const details = { outcome: run.outcome, ms: run.durationMs, ...run.counts, errorCount: run.errorCount, errors: run.errors.slice(0, 3) };
      if (run.outcome === 'failed') this.options.log.error(details, 'Google Workspace sync failed');
      else if (run.outcome === 'partial') this.options.log.warn(details, 'Google Workspace sync finished with refused changes');
      else this.options.log.info(details, 'Google Workspace sync finished');
    } finally {
      clearInterval(renew);
      this.syncing = false;
      this.abort = undefined;
    }
  }

  status(): SyncStatus {
    const nextRun = this.lastRun ? Date.parse(this.lastRun.startedAt) + this.intervalMs : undefined;
    return {
      source: 'google-workspace',
      state: this.stopped ? 'stopped' : this.syncing ? 'syncing' : this.leader ? 'waiting' : 'standby',
      leader: this.leader,
      intervalSeconds: this.options.config.syncIntervalSeconds,
      lastRun: this.lastRun,
      lastSuccessAt: this.lastSuccessAt,
      nextRunAt: nextRun !== undefined ? new Date(Math.max(nextRun, this.now())).toISOString() : null,
    };
  }

  /** Stops ticking, ends a running sync at its next step, and gives the lease to the next replica. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort?.abort(new Error('the bridge is stopping'));
    await this.running?.catch(() => undefined);
    if (this.leader) await this.options.store.releaseLease(SYNC_LEASE, this.holder).catch(() => undefined);
    this.leader = false;
  }
}
