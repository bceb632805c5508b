/**
 * The promoter moves waiting changes into the feed, on exactly one replica at a time (a lease in the store, as the
 * Google Workspace sync has). Every tick, in one transaction: it counts each source's deprovisioning within the
 * window; a source past a threshold gets a hold that takes its waiting deprovisioning changes and everything behind
 * them; then changes whose settle time is over (and what waits behind them) go into the feed, in order.
 */
import { hostname } from 'node:os';
import type { Store } from '../store/types';
import { type GuardSettings, guardEnabled, resourceKey, thresholdCrossed } from './guard';
import { type ChangeInput, DEFAULT_DIRECTORY } from './types';

export const GUARD_LEASE = 'deprovisioning-guard';
/** Rows promoted per tick at most: a long backlog drains over a few ticks, each transaction stays small. */
const PROMOTE_BATCH = 5000;

export interface PromoterLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface HoldStarted {
  readonly id: number;
  readonly actor: string;
  readonly reason: string;
  readonly people: number;
  readonly changes: number;
}

export interface TickResult {
  readonly started: readonly HoldStarted[];
  readonly promoted: number;
}

/** The rows whose time has come: per resource in order, up to the first deprovisioning change still settling. */
export function promotable<T extends { readonly at: string; readonly people: number; readonly change: ChangeInput }>(
  rows: readonly T[],
  nowMs: number,
  settleSeconds: number,
): T[] {
  const blocked = new Set<string>();
  const ready: T[] = [];
  const cutoff = nowMs - settleSeconds * 1000;
  for (const row of rows) {
    const key = resourceKey(row.change);
    if (!blocked.has(key) && (row.people === 0 || Date.parse(row.at) <= cutoff)) ready.push(row);
    else blocked.add(key);
  }
  return ready;
}

/** The feed's own event for a new hold: webhooks and the pull API deliver it like any change. */
export function holdStartedChange(hold: { id: number; actor: string; reason: string; startedAt: string; people: number; changes: number }): ChangeInput {
  return {
    type: 'hold.started',
    resource: { type: 'Hold', id: String(hold.id), version: 1 },
    actor: hold.actor,
    state: {
      id: String(hold.id),
      source: hold.actor,
      reason: hold.reason,
      startedAt: hold.startedAt,
      people: hold.people,
      changes: hold.changes,
      state: 'active',
    },
  };
}

/** One step of the promoter (the caller holds the lease). `nowMs` is the wall clock, given for tests. */
export async function promoteOnce(store: Store, settings: GuardSettings, nowMs: number = Date.now()): Promise<TickResult> {
  const enabled = guardEnabled(settings);
  const since = new Date(nowMs - settings.windowSeconds * 1000).toISOString();
  const startedAt = new Date(nowMs).toISOString();
  // The percent threshold's base, read only when someone deprovisioned (counting users is not free).
  const counted = enabled ? await store.guard.tally(since) : new Map<string, number>();
  // Nothing waits and nobody deprovisioned within the window: no transaction (every replica's second, saved).
  if (counted.size === 0 && !(await store.guard.hasWaiting())) return { started: [], promoted: 0 };
  const activeUsers = settings.holdPercent > 0 && counted.size > 0 ? (await store.counts()).usersActive : 0;
  return store.transaction(async (tx) => {
    await tx.guard.sweepDecided();
    const started: HoldStarted[] = [];
    if (enabled) {
      for (const [actor, people] of await tx.guard.tally(since)) {
        const active = await tx.guard.activeHoldOf(actor);
        if (active !== undefined) {
          await tx.guard.joinHold(active, actor);
          continue;
        }
        const reason = thresholdCrossed(people, activeUsers, settings);
        if (!reason) continue;
        const id = await tx.guard.createHold({ directory: DEFAULT_DIRECTORY, actor, startedAt, reason });
        await tx.guard.joinHold(id, actor);
        const hold = await tx.guard.getHold(id);
        if (!hold) throw new Error(`hold ${id} vanished inside the transaction that created it`);
        await tx.appendChanges([holdStartedChange(hold)]);
        await tx.recordEvent({
          at: startedAt,
          actor: 'scim-bridge',
          action: 'hold.start',
          resourceName: `hold ${id}`,
          outcome: 'success',
          status: 200,
          detail: `held ${hold.changes} changes of ${actor}: ${reason}`,
        });
        started.push({ id, actor, reason, people: hold.people, changes: hold.changes });
      }
    }
    await tx.guard.attachToHolds();
    const ready = promotable(await tx.guard.settling(PROMOTE_BATCH), nowMs, enabled ? settings.settleSeconds : 0);
    if (ready.length > 0) {
      await tx.appendChanges(ready.map((row) => row.change));
      await tx.guard.markDelivered(ready.map((row) => row.seq));
    }
    // Delivered rows only count within the window (and a settle time before it).
    await tx.guard.pruneDelivered(new Date(nowMs - (settings.windowSeconds + settings.settleSeconds + 60) * 1000).toISOString());
    return { started, promoted: ready.length };
  });
}

export interface PromoterOptions {
  readonly store: Store;
  readonly settings: GuardSettings;
  readonly log: PromoterLog;
  /** @default 1000 */
  readonly intervalMs?: number;
  /** @default 10 s */
  readonly leaseMs?: number;
  /** Called on this replica when it starts a hold (after the transaction committed). */
  readonly onHoldStarted?: (hold: HoldStarted) => void;
}

/** Ticks on every replica; only the lease holder promotes. Every replica keeps the count of active holds. */
export class Promoter {
  readonly holder = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  /** Active holds, as of this replica's last tick (for /metrics and the status page). */
  activeHolds = 0;
  private leader = false;
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;
  /** The last step failed (the store is away): said once, and once more when it is back, not every second. */
  private failing = false;

  constructor(private readonly options: PromoterOptions) {}

  private get leaseMs(): number {
    return this.options.leaseMs ?? 10_000;
  }

  start(): void {
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
        this.schedule(this.options.intervalMs ?? 1000);
      });
    }, ms);
    this.timer.unref();
  }

  /** One step: hold or seek the lease, promote when held, refresh the count of active holds. */
  async tick(nowMs?: number): Promise<TickResult | undefined> {
    try {
      const wasLeader = this.leader;
      this.leader = await this.options.store.tryAcquireLease(GUARD_LEASE, this.holder, this.leaseMs);
      if (this.leader !== wasLeader)
        this.options.log.info({ holder: this.holder }, this.leader ? 'took the deprovisioning guard lease' : 'lost the deprovisioning guard lease');
      let result: TickResult | undefined;
      if (this.leader && !this.stopped) {
        result = await promoteOnce(this.options.store, this.options.settings, nowMs ?? Date.now());
        for (const hold of result.started) {
          this.options.log.warn(
            { hold: hold.id, source: hold.actor, people: hold.people, changes: hold.changes, reason: hold.reason },
            'deprovisioning hold started',
          );
          this.options.onHoldStarted?.(hold);
        }
      }
      this.activeHolds = await this.options.store.guard.countActiveHolds();
      if (this.failing) this.options.log.info({}, 'deprovisioning guard steps succeed again');
      this.failing = false;
      return result;
    } catch (error) {
      if (!this.failing) this.options.log.warn({ reason: (error as Error).message }, 'deprovisioning guard step failed; retrying every tick');
      this.failing = true;
      return undefined;
    }
  }

  get isLeader(): boolean {
    return this.leader;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    if (this.leader) await this.options.store.releaseLease(GUARD_LEASE, this.holder).catch(() => undefined);
    this.leader = false;
  }
}
