/**
 * The change log's SQL, shared by both adapters. A transaction buffers the changes its work appends
 * (`ChangeBuffer`); the adapter writes them last, just before COMMIT (`writeChanges`). PostgreSQL takes a
 * transaction-level advisory lock first, so the span from taking a position to committing it is serialized: positions
 * commit in position order, and a reader that moves its cursor past the last position it read can never skip one
 * that commits a moment later (a sequence alone commits out of order across connections). SQLite has one writer, so
 * its positions commit in order already. The lock is held for one INSERT and the COMMIT, not for the request's work.
 */
import { type Change, type ChangeInput, DEFAULT_DIRECTORY } from '../feed/types';
import type { SqlExecutor } from './sql-store';

/** Any 64-bit key unique to this application (the migration lock is 0x5c1b_0001). */
export const CHANGE_LOG_LOCK = 0x5c1b_0002;

/** Rows per INSERT: 11 parameters each, well under every driver's limit. */
const ROWS_PER_INSERT = 50;

const COLUMNS = 'position, directory, at, type, resource_type, resource_id, resource_version, actor, request_id, state, changed, members';

/** What one transaction's work appended, written by the adapter just before COMMIT. */
export class ChangeBuffer {
  private changes: ChangeInput[] = [];

  append(changes: readonly ChangeInput[]): void {
    for (const change of changes) this.changes.push(change);
  }

  /** The buffered changes, emptying the buffer. */
  take(): ChangeInput[] {
    const taken = this.changes;
    this.changes = [];
    return taken;
  }
}

const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));

export async function writeChanges(db: SqlExecutor, changes: readonly ChangeInput[], at = new Date().toISOString(), directory = DEFAULT_DIRECTORY): Promise<void> {
  for (let start = 0; start < changes.length; start += ROWS_PER_INSERT) {
    const part = changes.slice(start, start + ROWS_PER_INSERT);
    const params: unknown[] = [];
    const rows = part.map((change) => {
      const base = params.length;
      params.push(
        directory,
        at,
        change.type,
        change.resource.type,
        change.resource.id,
        change.resource.version,
        change.actor.slice(0, 200),
        change.requestId?.slice(0, 128) ?? null,
        json(change.state),
        json(change.changed),
        json(change.members),
      );
      return `(${Array.from({ length: 11 }, (_, i) => `$${base + i + 1}`).join(', ')})`;
    });
    await db.run(
      `INSERT INTO changes (directory, at, type, resource_type, resource_id, resource_version, actor, request_id, state, changed, members) VALUES ${rows.join(', ')}`,
      params,
    );
  }
}

function parsed<T>(value: unknown): T | undefined {
  if (value === null || value === undefined) return undefined;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

function toChange(row: readonly unknown[]): Change {
  const state = parsed<Record<string, unknown>>(row[9]);
  const changed = parsed<string[]>(row[10]);
  const members = parsed<string[]>(row[11]);
  const requestId = row[8] as string | null;
  return {
    position: Number(row[0]),
    directory: row[1] as string,
    at: row[2] as string,
    type: row[3] as Change['type'],
    resource: { type: row[4] as 'User' | 'Group', id: row[5] as string, version: Number(row[6]) },
    actor: row[7] as string,
    ...(requestId !== null ? { requestId } : {}),
    ...(state !== undefined ? { state } : {}),
    ...(changed !== undefined ? { changed } : {}),
    ...(members !== undefined ? { members } : {}),
  };
}

/** Reads of the log, outside transactions; every position below what they return has committed or never will. */
export class SqlChangeLog {
  constructor(private readonly db: SqlExecutor) {}

  async readChanges(after: number, limit: number, directory = DEFAULT_DIRECTORY): Promise<Change[]> {
    if (!Number.isSafeInteger(after) || after < 0) throw new RangeError(`a change position must be a whole number of at least 0 (got ${after})`);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) throw new RangeError(`a change read's limit must be 1 to 10000 (got ${limit})`);
    const rows = await this.db.rows(`SELECT ${COLUMNS} FROM changes WHERE directory = $1 AND position > $2 ORDER BY position LIMIT $3`, [directory, after, limit]);
    return rows.map(toChange);
  }

  async headPosition(directory = DEFAULT_DIRECTORY): Promise<number> {
    const [row] = await this.db.rows('SELECT MAX(position) FROM changes WHERE directory = $1', [directory]);
    return Number(row?.[0] ?? 0);
  }

  async oldestPosition(directory = DEFAULT_DIRECTORY): Promise<number> {
    const [row] = await this.db.rows('SELECT MIN(position) FROM changes WHERE directory = $1', [directory]);
    return Number(row?.[0] ?? 0);
  }

  async positionAt(at: string, directory = DEFAULT_DIRECTORY): Promise<number | undefined> {
    if (Number.isNaN(Date.parse(at))) throw new RangeError(`not a time: "${at}"`);
    const [row] = await this.db.rows('SELECT MIN(position) FROM changes WHERE directory = $1 AND at >= $2', [directory, new Date(at).toISOString()]);
    return row?.[0] === null || row?.[0] === undefined ? undefined : Number(row[0]);
  }

  pruneChanges(olderThan: string, keepFrom: number): Promise<number> {
    return this.db.run('DELETE FROM changes WHERE at < $1 AND position < $2', [olderThan, keepFrom]);
  }
}

/** Listeners told after a transaction that appended changes commits in this process (long polls, deliveries). */
export class CommitSignal {
  private readonly listeners = new Set<() => void>();

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch {
        // A listener's failure is its own; the write has committed.
      }
    }
  }
}
