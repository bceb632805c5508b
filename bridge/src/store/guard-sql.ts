/**
 * The deprovisioning guard's rows, for both adapters: changes not yet in the feed (`pending_changes`) and the holds
 * an operator decides on (`holds`). Storage only: which change waits, when a hold starts and what a release
 * delivers are decided in feed/guard.ts, feed/gate.ts and feed/promoter.ts.
 *
 * A pending row is `pending` while it waits (settling when `hold_id` is null, held otherwise) and `delivered` once
 * it reached the feed; delivered rows are kept for the window only, to count a source's deprovisioning.
 */
import type { ChangeInput } from '../feed/types';
import type { SqlExecutor } from './sql-store';

export type HoldState = 'active' | 'released' | 'discarded';

export interface HoldRecord {
  readonly id: number;
  readonly directory: string;
  /** The source whose deprovisioning crossed a threshold (an identity provider's User-Agent, `google-workspace`). */
  readonly actor: string;
  readonly startedAt: string;
  /** Which threshold, in words. */
  readonly reason: string;
  readonly state: HoldState;
  readonly decidedAt?: string;
  readonly decidedBy?: string;
  /** Changes waiting in the hold now (0 once decided). */
  readonly changes: number;
  /** Distinct people those changes deprovision. */
  readonly people: number;
}

export interface PendingRow {
  readonly seq: number;
  readonly at: string;
  readonly actor: string;
  readonly resourceKey: string;
  /** People this change deprovisions (0 for any other change). */
  readonly people: number;
  readonly holdId?: number;
  readonly change: ChangeInput;
}

export interface NewPendingRow {
  readonly at: string;
  readonly actor: string;
  readonly resourceKey: string;
  /** Whom the change deprovisions (user ids); empty for any other change. */
  readonly subjects: readonly string[];
  readonly holdId?: number;
  /** `delivered`: appended to the feed already, kept only to count the source's deprovisioning. */
  readonly state: 'pending' | 'delivered';
  readonly change: ChangeInput;
}

/** What the guard keeps, inside a transaction (`tx.guard`) or outside one (`store.guard`). */
export interface GuardStorage {
  /** Of `keys`, those with changes still waiting: each with the hold holding them, or null while they settle. */
  waitingResources(keys: readonly string[]): Promise<Map<string, number | null>>;
  /** The active hold of `actor`, if any. */
  activeHoldOf(actor: string): Promise<number | undefined>;
  insertPending(rows: readonly NewPendingRow[]): Promise<void>;
  /** Distinct people deprovisioned per source at or after `since`, outside any hold, after each source's last decided hold. */
  tally(since: string): Promise<Map<string, number>>;
  /** Whether any change waits (settling or held): when none does and nobody deprovisioned, the promoter rests. */
  hasWaiting(): Promise<boolean>;
  /** Settling rows (no hold), oldest first. */
  settling(limit: number): Promise<PendingRow[]>;
  /** Rows of a hold, oldest first. */
  holdRows(holdId: number): Promise<PendingRow[]>;
  markDelivered(seqs: readonly number[]): Promise<void>;
  deleteHoldRows(holdId: number): Promise<number>;
  /** Deletes delivered rows appended before `before`. */
  pruneDelivered(before: string): Promise<number>;
  createHold(hold: { directory: string; actor: string; startedAt: string; reason: string }): Promise<number>;
  /**
   * Puts into hold `holdId` every settling deprovisioning row of `actor`, and every settling row of the same
   * resources (what waits behind them); returns how many rows it took.
   */
  joinHold(holdId: number, actor: string): Promise<number>;
  /** Settling rows of a resource that has held rows join that hold (they arrived while it was being formed). */
  attachToHolds(): Promise<number>;
  /** Rows that joined a hold after it was decided: released ones settle again, discarded ones are dropped. */
  sweepDecided(): Promise<void>;
  /** Marks an active hold released or discarded; false when it is not active (or does not exist). */
  decideHold(id: number, state: 'released' | 'discarded', by: string, at: string): Promise<boolean>;
  getHold(id: number): Promise<HoldRecord | undefined>;
  listHolds(state?: HoldState): Promise<HoldRecord[]>;
  /** How many holds wait for an operator (one cheap count, for the gauge every replica refreshes each second). */
  countActiveHolds(): Promise<number>;
  /** The groups the operator marked as granting access (their removals deprovision). */
  grantAccessGroups(): Promise<Set<string>>;
}

/** The state key holding the groups marked as granting access (JSON array of group ids). */
export const GRANT_ACCESS_KEY = 'guard.grant-access-groups';

const IN_CHUNK = 500;

function placeholders(from: number, count: number): string {
  return Array.from({ length: count }, (_, i) => `$${from + i}`).join(', ');
}

function toRow(row: Record<string, unknown>): PendingRow {
  return {
    seq: Number(row.seq),
    at: row.at as string,
    actor: row.actor as string,
    resourceKey: row.resource_key as string,
    people: Number(row.people),
    holdId: row.hold_id === null || row.hold_id === undefined ? undefined : Number(row.hold_id),
    change: typeof row.change === 'string' ? (JSON.parse(row.change) as ChangeInput) : (row.change as ChangeInput),
  };
}

const HOLD_SELECT = `SELECT h.id, h.directory, h.actor, h.started_at, h.reason, h.state, h.decided_at, h.decided_by,
    (SELECT COUNT(*) FROM pending_changes p WHERE p.hold_id = h.id AND p.state = 'pending') AS changes
  FROM holds h`;

function subjectsOf(value: unknown): string[] {
  return typeof value === 'string' ? (JSON.parse(value) as string[]) : ((value as string[] | null) ?? []);
}

function toHold(row: Record<string, unknown>, people: number): HoldRecord {
  return {
    id: Number(row.id),
    directory: row.directory as string,
    actor: row.actor as string,
    startedAt: row.started_at as string,
    reason: row.reason as string,
    state: row.state as HoldState,
    decidedAt: (row.decided_at as string | null) ?? undefined,
    decidedBy: (row.decided_by as string | null) ?? undefined,
    changes: Number(row.changes),
    people,
  };
}

export class SqlGuardStorage implements GuardStorage {
  constructor(private readonly db: SqlExecutor) {}

  async waitingResources(keys: readonly string[]): Promise<Map<string, number | null>> {
    const found = new Map<string, number | null>();
    const unique = [...new Set(keys)];
    for (let i = 0; i < unique.length; i += IN_CHUNK) {
      const part = unique.slice(i, i + IN_CHUNK);
      const rows = await this.db.all<Record<string, unknown>>(
        `SELECT resource_key, MIN(hold_id) AS hold_id FROM pending_changes
         WHERE state = 'pending' AND resource_key IN (${placeholders(1, part.length)}) GROUP BY resource_key`,
        part,
      );
      for (const row of rows) found.set(row.resource_key as string, row.hold_id === null ? null : Number(row.hold_id));
    }
    return found;
  }

  async activeHoldOf(actor: string): Promise<number | undefined> {
    const [row] = await this.db.rows("SELECT MIN(id) FROM holds WHERE actor = $1 AND state = 'active'", [actor]);
    return row && row[0] !== null ? Number(row[0]) : undefined;
  }

  async insertPending(rows: readonly NewPendingRow[]): Promise<void> {
    for (const row of rows) {
      await this.db.run(
        `INSERT INTO pending_changes (directory, at, actor, resource_key, type, people, subjects, hold_id, state, change)
         VALUES ('default', $1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          row.at,
          row.actor.slice(0, 200),
          row.resourceKey,
          row.change.type,
          row.subjects.length,
          JSON.stringify(row.subjects),
          row.holdId ?? null,
          row.state,
          JSON.stringify(row.change),
        ],
      );
    }
  }

  async tally(since: string): Promise<Map<string, number>> {
    const rows = await this.db.all<Record<string, unknown>>(
      `SELECT p.actor, p.subjects FROM pending_changes p
       WHERE p.people > 0 AND p.hold_id IS NULL AND p.at >= $1
         AND p.at > COALESCE((SELECT MAX(h.decided_at) FROM holds h WHERE h.actor = p.actor), '')`,
      [since],
    );
    // Distinct people: one suspended and removed from a group that grants access is one person, not two.
    const people = new Map<string, Set<string>>();
    for (const row of rows) {
      const actor = row.actor as string;
      const seen = people.get(actor) ?? new Set<string>();
      people.set(actor, seen);
      for (const subject of subjectsOf(row.subjects)) seen.add(subject);
    }
    return new Map([...people].map(([actor, seen]) => [actor, seen.size]));
  }

  async hasWaiting(): Promise<boolean> {
    return (await this.db.rows("SELECT 1 FROM pending_changes WHERE state = 'pending' LIMIT 1")).length > 0;
  }

  async settling(limit: number): Promise<PendingRow[]> {
    const rows = await this.db.all<Record<string, unknown>>(
      `SELECT seq, at, actor, resource_key, people, hold_id, change FROM pending_changes
       WHERE state = 'pending' AND hold_id IS NULL ORDER BY seq LIMIT $1`,
      [limit],
    );
    return rows.map(toRow);
  }

  async holdRows(holdId: number): Promise<PendingRow[]> {
    const rows = await this.db.all<Record<string, unknown>>(
      `SELECT seq, at, actor, resource_key, people, hold_id, change FROM pending_changes
       WHERE state = 'pending' AND hold_id = $1 ORDER BY seq`,
      [holdId],
    );
    return rows.map(toRow);
  }

  async markDelivered(seqs: readonly number[]): Promise<void> {
    for (let i = 0; i < seqs.length; i += IN_CHUNK) {
      const part = seqs.slice(i, i + IN_CHUNK);
      await this.db.run(`UPDATE pending_changes SET state = 'delivered' WHERE seq IN (${placeholders(1, part.length)})`, part);
    }
  }

  deleteHoldRows(holdId: number): Promise<number> {
    return this.db.run("DELETE FROM pending_changes WHERE hold_id = $1 AND state = 'pending'", [holdId]);
  }

  pruneDelivered(before: string): Promise<number> {
    return this.db.run("DELETE FROM pending_changes WHERE state = 'delivered' AND at < $1", [before]);
  }

  async createHold(hold: { directory: string; actor: string; startedAt: string; reason: string }): Promise<number> {
    const [row] = await this.db.rows("INSERT INTO holds (directory, actor, started_at, reason, state) VALUES ($1, $2, $3, $4, 'active') RETURNING id", [
      hold.directory,
      hold.actor.slice(0, 200),
      hold.startedAt,
      hold.reason,
    ]);
    return Number(row[0]);
  }

  joinHold(holdId: number, actor: string): Promise<number> {
    return this.db.run(
      `UPDATE pending_changes SET hold_id = $1 WHERE state = 'pending' AND hold_id IS NULL AND resource_key IN (
         SELECT resource_key FROM pending_changes WHERE state = 'pending' AND hold_id IS NULL AND actor = $2 AND people > 0)`,
      [holdId, actor.slice(0, 200)],
    );
  }

  attachToHolds(): Promise<number> {
    return this.db.run(
      `UPDATE pending_changes SET hold_id = (
         SELECT MIN(h.hold_id) FROM pending_changes h WHERE h.resource_key = pending_changes.resource_key AND h.state = 'pending' AND h.hold_id IS NOT NULL)
       WHERE state = 'pending' AND hold_id IS NULL AND EXISTS (
         SELECT 1 FROM pending_changes h WHERE h.resource_key = pending_changes.resource_key AND h.state = 'pending' AND h.hold_id IS NOT NULL)`,
    );
  }

  async sweepDecided(): Promise<void> {
    await this.db.run("UPDATE pending_changes SET hold_id = NULL WHERE state = 'pending' AND hold_id IN (SELECT id FROM holds WHERE state = 'released')");
    await this.db.run("DELETE FROM pending_changes WHERE state = 'pending' AND hold_id IN (SELECT id FROM holds WHERE state = 'discarded')");
  }

  async decideHold(id: number, state: 'released' | 'discarded', by: string, at: string): Promise<boolean> {
    return (
      (await this.db.run("UPDATE holds SET state = $2, decided_by = $3, decided_at = $4 WHERE id = $1 AND state = 'active'", [
        id,
        state,
        by.slice(0, 200),
        at,
      ])) === 1
    );
  }

  /** Distinct people the waiting rows of each hold deprovision. */
  private async peopleOf(holdIds: readonly number[]): Promise<Map<number, number>> {
    const seen = new Map<number, Set<string>>(holdIds.map((id) => [id, new Set<string>()]));
    for (let i = 0; i < holdIds.length; i += IN_CHUNK) {
      const part = holdIds.slice(i, i + IN_CHUNK);
      const rows = await this.db.all<Record<string, unknown>>(
        `SELECT hold_id, subjects FROM pending_changes WHERE state = 'pending' AND people > 0 AND hold_id IN (${placeholders(1, part.length)})`,
        part,
      );
      for (const row of rows) for (const subject of subjectsOf(row.subjects)) seen.get(Number(row.hold_id))?.add(subject);
    }
    return new Map([...seen].map(([id, subjects]) => [id, subjects.size]));
  }

  async getHold(id: number): Promise<HoldRecord | undefined> {
    const [row] = await this.db.all<Record<string, unknown>>(`${HOLD_SELECT} WHERE h.id = $1`, [id]);
    return row ? toHold(row, (await this.peopleOf([id])).get(id) ?? 0) : undefined;
  }

  async listHolds(state?: HoldState): Promise<HoldRecord[]> {
    const rows = state
      ? await this.db.all<Record<string, unknown>>(`${HOLD_SELECT} WHERE h.state = $1 ORDER BY h.id DESC LIMIT 200`, [state])
      : await this.db.all<Record<string, unknown>>(`${HOLD_SELECT} ORDER BY h.id DESC LIMIT 200`);
    const people = await this.peopleOf(rows.filter((row) => row.state === 'active').map((row) => Number(row.id)));
    return rows.map((row) => toHold(row, people.get(Number(row.id)) ?? 0));
  }

  async countActiveHolds(): Promise<number> {
    const [row] = await this.db.rows("SELECT COUNT(*) FROM holds WHERE state = 'active'");
    return Number(row[0]);
  }

  async grantAccessGroups(): Promise<Set<string>> {
    const [row] = await this.db.rows('SELECT value FROM state WHERE key = $1', [GRANT_ACCESS_KEY]);
    return new Set(row ? (JSON.parse(row[0] as string) as string[]) : []);
  }
}
