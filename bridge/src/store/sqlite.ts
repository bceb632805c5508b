/**
 * The embedded store: one SQLite file through Node's built-in `node:sqlite` (no native build, no server).
 * One connection, WAL journal, synchronous=FULL so an acknowledged write survives a crash. Transactions are
 * serialized in-process (SQLite has one writer anyway), and a statement outside a transaction waits while one is
 * open, so it neither joins someone else's transaction nor reads what it has not committed yet.
 * A full disk (SQLITE_FULL) is a StoreFull: the transaction is rolled back whole and /health reports it until a
 * write fits again.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { writeChanges } from './change-log';
import { boundedMembersJson } from './group-page';
import { referenceGone } from './integrity';
import { NAME_KEY_MIGRATION, recomputeNameKeys } from './name-keys';
import { FOLD_BUDGET_CHARS, LIST_DEADLINE_MS, OFFLOAD_COST, deadlineError, isDeadlinePassed, listTimedOut } from './list-deadline';
import type { Dialect } from './sql-filter';
import { type SqlExecutor, SqlStore, SqlStoreTx, assertStorable } from './sql-store';
import { seedProtectedGroups } from './seed';
import { ReaderBusy, SqliteReader } from './sqlite-reader';
import { type Store, StoreFull, StorePoolExhausted, StoreTimeout, type StoreTx, StoreUnavailable, UniqueViolation } from './types';

const jsonPath = (keys: readonly string[]) => `'$${keys.map((k) => `."${k}"`).join('')}'`;

export const sqliteDialect: Dialect = {
  placeholder: (index) => `?${index}`,
  jsonText: (source, keys) => `json_extract(${source}, ${jsonPath(keys)})`,
  jsonElements: (source, keys, alias) => ({ from: `json_each(${source}, ${jsonPath(keys)}) AS ${alias}`, element: `${alias}.value` }),
  jsonBoolean: (expr, param) => `${expr} = ${param}`,
  jsonBooleanParam: (value) => (value ? 1 : 0),
  booleanParam: (value) => (value ? 1 : 0),
  contains: (expr, param) => `instr(${expr}, ${param}) > 0`,
  startsWith: (expr, param) => `substr(${expr}, 1, length(${param})) = ${param}`,
  endsWith: (expr, param) => `(length(${param}) = 0 OR substr(${expr}, -length(${param})) = ${param})`,
  not: (condition) => `NOT COALESCE(${condition}, 0)`,
  numeric: (expr) => expr,
  // SQLite's built-in lower() folds ASCII only: 'Ä' would not match itself case-insensitively. scim_lower is
  // JavaScript's toLowerCase, registered on each connection (the same folding as the lower-cased name columns).
  fold: (expr) => `scim_lower(${expr})`,
  groupsOfUserJson:
    '(SELECT json_group_array(json_array(g.id, g.display_name, g.display_name_lc)) FROM group_members gm JOIN groups g ON g.id = gm.group_id WHERE gm.user_id = users.id)',
  membersOfGroupJson: boundedMembersJson({
    aggregate: (element, order) => `json_group_array(json_array(${element}) ORDER BY ${order})`,
    length: 'length',
    least: 'min',
  }),
  nowMs: "CAST(unixepoch('subsec') * 1000 AS INTEGER)",
  // Registered on each connection: fails the statement once the list's deadline has passed (list-deadline.ts).
  rowGuard: 'scim_deadline()',
};

/**
 * Schema versions, applied in order and never rewritten: a new change is a new entry, and every entry is additive
 * (see docs/upgrading.md: expand now, contract in a later release).
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE users (
     id TEXT PRIMARY KEY,
     user_name TEXT NOT NULL,
     user_name_lc TEXT NOT NULL UNIQUE,
     external_id TEXT,
     display_name TEXT,
     active INTEGER NOT NULL,
     doc TEXT NOT NULL,
     version INTEGER NOT NULL,
     created TEXT NOT NULL,
     last_modified TEXT NOT NULL
   );
   CREATE INDEX users_external_id ON users (external_id);
   CREATE INDEX users_created ON users (created, id);
   CREATE INDEX users_last_modified ON users (last_modified);
   CREATE TABLE groups (
     id TEXT PRIMARY KEY,
     display_name TEXT NOT NULL,
     display_name_lc TEXT NOT NULL UNIQUE,
     external_id TEXT,
     managed INTEGER NOT NULL,
     protected INTEGER NOT NULL,
     doc TEXT NOT NULL,
     version INTEGER NOT NULL,
     created TEXT NOT NULL,
     last_modified TEXT NOT NULL
   );
   CREATE INDEX groups_external_id ON groups (external_id);
   CREATE INDEX groups_created ON groups (created, id);
   CREATE TABLE group_members (
     group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
     user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
     PRIMARY KEY (group_id, user_id)
   ) WITHOUT ROWID;
   CREATE INDEX group_members_user ON group_members (user_id, group_id);
   CREATE TABLE events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     at TEXT NOT NULL,
     actor TEXT NOT NULL,
     action TEXT NOT NULL,
     resource_type TEXT,
     resource_id TEXT,
     resource_name TEXT,
     outcome TEXT NOT NULL,
     status INTEGER NOT NULL,
     request_id TEXT,
     detail TEXT
   );
   CREATE INDEX events_at ON events (at);`,
  // 2: leases (one replica runs a periodic job) and a small key-value state (its checkpoints).
  `CREATE TABLE leases (
     name TEXT PRIMARY KEY,
     holder TEXT NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE TABLE state (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );`,
  // 3: the change log (bridge/src/store/change-log.ts): every accepted change, in the write's own transaction.
  `CREATE TABLE changes (
     position INTEGER PRIMARY KEY AUTOINCREMENT,
     directory TEXT NOT NULL,
     at TEXT NOT NULL,
     type TEXT NOT NULL,
     resource_type TEXT NOT NULL,
     resource_id TEXT NOT NULL,
     resource_version INTEGER NOT NULL,
     actor TEXT NOT NULL,
     request_id TEXT,
     state TEXT,
     changed TEXT,
     members TEXT
   );
   CREATE INDEX changes_directory ON changes (directory, position);
   CREATE INDEX changes_at ON changes (at);`,
  // 4: name keys recomputed with full case folding (name-keys.ts runs it in JavaScript: the databases fold otherwise).
  '-- name keys: see name-keys.ts',
  // 5: webhook endpoints: declared (configuration) and registered (CLI) alike, with each one's delivery progress.
  `CREATE TABLE IF NOT EXISTS webhook_endpoints (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     url TEXT NOT NULL,
     events TEXT,
     source TEXT NOT NULL,
     secret TEXT,
     directory TEXT NOT NULL,
     position INTEGER NOT NULL,
     attempts INTEGER NOT NULL,
     failing_since INTEGER,
     next_attempt_at INTEGER NOT NULL,
     last_attempt_at INTEGER,
     last_status INTEGER,
     last_error TEXT,
     last_delivered_at INTEGER,
     delivered INTEGER NOT NULL,
     failures INTEGER NOT NULL,
     paused INTEGER NOT NULL,
     dead_position INTEGER,
     dead_at INTEGER,
     revision INTEGER NOT NULL,
     created TEXT NOT NULL
   );`,
  // 6: the deprovisioning guard: changes not yet in the feed, and the holds an operator decides on (idempotent: a
  // test rewinds a store to an earlier version and migrates it again).
  `CREATE TABLE IF NOT EXISTS holds (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     directory TEXT NOT NULL,
     actor TEXT NOT NULL,
     started_at TEXT NOT NULL,
     reason TEXT NOT NULL,
     state TEXT NOT NULL,
     decided_at TEXT,
     decided_by TEXT
   );
   CREATE INDEX IF NOT EXISTS holds_actor ON holds (actor, state);
   CREATE TABLE IF NOT EXISTS pending_changes (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     directory TEXT NOT NULL,
     at TEXT NOT NULL,
     actor TEXT NOT NULL,
     resource_key TEXT NOT NULL,
     type TEXT NOT NULL,
     people INTEGER NOT NULL,
     subjects TEXT NOT NULL,
     hold_id INTEGER,
     state TEXT NOT NULL,
     change TEXT NOT NULL
   );
   CREATE INDEX IF NOT EXISTS pending_changes_resource ON pending_changes (resource_key, state);
   CREATE INDEX IF NOT EXISTS pending_changes_hold ON pending_changes (hold_id, seq);
   CREATE INDEX IF NOT EXISTS pending_changes_actor ON pending_changes (actor, at);`,
];

/** The schema version this code migrates to (tests of the upgrade path read it). */
export const SQLITE_SCHEMA_VERSION = MIGRATIONS.length;

const SQLITE_FULL = 13;
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const UNAVAILABLE_CODES = new Set([8 /* READONLY */, 10 /* IOERR */, 14 /* CANTOPEN */]);

/** node:sqlite's errors as the store's: unique violations, a full disk, a busy or unreadable file. */
function translate(error: unknown): unknown {
  const err = error as { code?: string; errcode?: number; message?: string };
  if (err?.code !== 'ERR_SQLITE_ERROR') return error;
  const unique = /UNIQUE constraint failed: (\w+)\.(\w+)/.exec(err.message ?? '');
  if (unique) return new UniqueViolation(unique[2] === 'user_name_lc' ? 'userName' : unique[2] === 'display_name_lc' ? 'displayName' : unique[2]);
  // SQLite does not say which key: only memberships reference other rows, and the directory locks the group first.
  if (/FOREIGN KEY constraint failed/.test(err.message ?? '')) return referenceGone('member');
  const primary = (err.errcode ?? 0) & 0xff;
  if (primary === SQLITE_FULL) return new StoreFull({ cause: error });
  if (primary === SQLITE_BUSY || primary === SQLITE_LOCKED) return new StoreTimeout({ cause: error });
  if (UNAVAILABLE_CODES.has(primary)) return new StoreUnavailable(undefined, { cause: error });
  return error;
}

/** Statements prepared once per text; the hot reads return arrays (`setReturnArrays`), cheaper than row objects. */
class Statements {
  private readonly objects = new Map<string, StatementSync>();
  private readonly arrays = new Map<string, StatementSync>();
  constructor(private readonly db: DatabaseSync) {}

  get(sql: string, arrays: boolean): StatementSync {
    const cache = arrays ? this.arrays : this.objects;
    let statement = cache.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql.replace(/\$(\d+)/g, '?$1'));
      if (arrays) statement.setReturnArrays(true);
      // Cache only the statements that recur (not the chunked IN lists of every size).
      if (cache.size < 500) cache.set(sql, statement);
    }
    return statement;
  }
}

/** The deadline of the list statement running on the main connection now (Infinity: none), read by scim_deadline(). */
interface DeadlineSlot {
  until: number;
  /** Characters scim_lower folded in the bounded statement running now. */
  folded: number;
}

class SqliteExecutor implements SqlExecutor {
  /**
   * @param waitForTransaction when given, this executor runs outside transactions: while one is open on the
   *   shared connection it waits for it to end first, unless the call comes from that transaction's own work
   *   (`insideTransaction`), which would otherwise wait for itself.
   */
  constructor(
    private readonly db: DatabaseSync,
    private readonly statements: Statements,
    private readonly onWrite: (changes: number, error?: unknown) => void,
    private readonly waitForTransaction?: () => Promise<unknown>,
    private readonly insideTransaction?: () => boolean,
    /** With `deadline`: its statements fail past that time (epoch ms), through the row guard reading `slot`. */
    private readonly slot?: DeadlineSlot,
    private readonly deadline?: number,
  ) {}

  /** The same executor, its statements bounded by `deadline`. */
  until(slot: DeadlineSlot, deadline: number): SqliteExecutor {
    return new SqliteExecutor(this.db, this.statements, this.onWrite, this.waitForTransaction, this.insideTransaction, slot, deadline);
  }

  private mustWait(): boolean {
    return this.waitForTransaction !== undefined && this.db.isTransaction && !this.insideTransaction?.();
  }

  private async ready(): Promise<void> {
    while (this.mustWait()) await this.waitForTransaction!();
  }

  async all<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    if (this.mustWait()) await this.ready();
    return this.wrap(() => this.statements.get(sql, false).all(...(params as never[]))) as T[];
  }

  async rows(sql: string, params: readonly unknown[] = []): Promise<unknown[][]> {
    if (this.mustWait()) await this.ready();
    return this.wrap(() => this.statements.get(sql, true).all(...(params as never[]))) as unknown as unknown[][];
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    if (this.mustWait()) await this.ready();
    try {
      const changes = this.wrap(() => Number(this.statements.get(sql, false).run(...(params as never[])).changes));
      this.onWrite(changes);
      return changes;
    } catch (error) {
      this.onWrite(0, error);
      throw error;
    }
  }

  private wrap<T>(work: () => T): T {
    if (this.slot && this.deadline !== undefined) {
      this.slot.until = this.deadline;
      this.slot.folded = 0;
    }
    try {
      return work();
    } catch (error) {
      throw translate(error);
    } finally {
      if (this.slot) this.slot.until = Infinity;
    }
  }

  /** The parameters are checked here for both adapters alike: see assertStorable. */
  static checked(executor: SqliteExecutor, bounded?: SqlExecutor['bounded']): SqlExecutor {
    return {
      all: (sql, params = []) => {
        assertStorable(params);
        return executor.all(sql, params);
      },
      rows: (sql, params = []) => {
        assertStorable(params);
        return executor.rows(sql, params);
      },
      run: (sql, params = []) => {
        assertStorable(params);
        return executor.run(sql, params);
      },
      bounded,
    };
  }
}

/**
 * A list's statements on the reader thread: read-only, running for `budgetMs` in all once they start; a list that
 * waits longer than LIST_DEADLINE_MS for the reader (it is busy with others) is a 503 the client retries.
 */
function readerExecutor(reader: SqliteReader, budgetMs: number): SqlExecutor {
  const queueUntil = Date.now() + LIST_DEADLINE_MS;
  let spent = 0;
  const rows = async (sql: string, params: readonly unknown[] = []) => {
    assertStorable(params);
    if (spent >= budgetMs) throw deadlineError();
    try {
      const answer = await reader.rows(sql.replace(/\$(\d+)/g, '?$1'), params, queueUntil, budgetMs - spent);
      spent += answer.ms;
      return answer.rows;
    } catch (error) {
      if (error instanceof ReaderBusy) throw new StorePoolExhausted({ cause: error });
      throw translate(error);
    }
  };
  return {
    rows,
    all: () => Promise.reject(new Error('the reader thread answers rows only')),
    run: () => Promise.reject(new Error('the reader thread does not write')),
  };
}

export interface SqliteOptions {
  /** @default LIST_DEADLINE_MS */
  readonly listDeadlineMs?: number;
}

export class SqliteStore extends SqlStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly connection: DatabaseSync;
  private readonly reader: SqliteReader | undefined;
  /** Outside transactions: waits while one is open. */
  private readonly outside: SqlExecutor;
  /** What a transaction's work runs on. */
  private readonly inside: SqlStoreTx;
  private readonly insideExecutor: SqlExecutor;
  private queue: Promise<unknown> = Promise.resolve();
  /** Marks the async context of the transaction that is open, so its own calls to the store do not wait for it. */
  private readonly context = new AsyncLocalStorage<true>();
  /** Set when a write found the disk full; cleared when a write fits again. */
  private full = false;
  /** The open transaction changed rows (its commit proves there is room again). */
  private txWrote = false;

  /** Opens (creating if needed) the database file; `:memory:` for a throwaway store. */
  static open(path: string, options: SqliteOptions = {}): SqliteStore {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const connection = new DatabaseSync(path);
    connection.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;');
    const slot: DeadlineSlot = { until: Infinity, folded: 0 };
    connection.function('scim_lower', { deterministic: true }, (value) => {
      if (typeof value !== 'string') return value;
      // Within a bounded list, the text folded is bounded too (FOLD_BUDGET_CHARS); other statements fold freely.
      if (slot.until !== Infinity && (slot.folded += value.length) > FOLD_BUDGET_CHARS) throw deadlineError();
      return value.toLowerCase();
    });
    connection.function('scim_deadline', { deterministic: false }, () => {
      if (Date.now() > slot.until) throw deadlineError();
      return 1;
    });
    // A database in memory has no second connection: its lists run on the event loop, bounded by the deadline alone.
    const reader = path === ':memory:' ? undefined : new SqliteReader(path);
    return new SqliteStore(connection, slot, reader, options.listDeadlineMs ?? LIST_DEADLINE_MS);
  }

  private constructor(connection: DatabaseSync, slot: DeadlineSlot, reader: SqliteReader | undefined, listDeadlineMs: number) {
    const statements = new Statements(connection);
    const noteWrite = (changes: number, error?: unknown) => this.noteWrite(changes, error);
    const main = new SqliteExecutor(
      connection,
      statements,
      noteWrite,
      () => this.queue,
      () => this.context.getStore() === true,
    );
    /** Costly lists go to the reader thread; the others run here, bounded by the same deadline. */
    const bounded = async <T>(cost: number, work: (db: SqlExecutor) => Promise<T>): Promise<T> => {
      try {
        return await work(
          reader && cost >= OFFLOAD_COST ? readerExecutor(reader, listDeadlineMs) : SqliteExecutor.checked(main.until(slot, Date.now() + listDeadlineMs)),
        );
      } catch (error) {
        if (isDeadlinePassed(error)) throw listTimedOut(listDeadlineMs);
        throw error;
      }
    };
    const outside = SqliteExecutor.checked(main, bounded);
    super(outside, sqliteDialect);
    this.reader = reader;
    this.connection = connection;
    this.outside = outside;
    this.insideExecutor = SqliteExecutor.checked(new SqliteExecutor(connection, statements, noteWrite));
    this.inside = new SqlStoreTx(this.insideExecutor, sqliteDialect);
  }

  private noteWrite(changes: number, error?: unknown): void {
    if (error instanceof StoreFull) this.full = true;
    else if (changes > 0 && this.connection.isTransaction) this.txWrote = true;
    else if (changes > 0) this.full = false;
  }

  /** For tests of a full disk: caps the file at its current size plus `extraPages` pages (per connection, not stored). */
  limitPagesForTesting(extraPages: number): void {
    const { page_count: pages } = this.connection.prepare('PRAGMA page_count').get() as { page_count: number };
    this.connection.exec(`PRAGMA max_page_count = ${Math.max(1, pages + extraPages)}`);
  }

  async migrate(): Promise<void> {
    await this.transaction(async () => {
      this.connection.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
      const [row] = await this.insideExecutor.all<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
      for (let version = (row?.v ?? 0) + 1; version <= MIGRATIONS.length; version++) {
        this.connection.exec(MIGRATIONS[version - 1]);
        if (version === NAME_KEY_MIGRATION) await recomputeNameKeys(this.insideExecutor);
        await this.insideExecutor.run('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [version, new Date().toISOString()]);
      }
      await seedProtectedGroups(this.insideExecutor, sqliteDialect);
    });
  }

  async transaction<T>(work: (tx: StoreTx) => Promise<T>): Promise<T> {
    // SQLite has one transaction at a time: one begun inside another would wait for itself forever.
    if (this.context.getStore()) throw new Error('a store transaction cannot be started inside another; use the tx it was given');
    const run = async () => {
      try {
        this.connection.exec('BEGIN IMMEDIATE');
        this.txWrote = false;
        this.inside.changeBuffer.take();
        const result = await this.context.run(true, () => work(this.inside));
        // One writer: positions taken here commit in order.
        const changes = this.inside.changeBuffer.take();
        if (changes.length) await writeChanges(this.insideExecutor, changes);
        this.connection.exec('COMMIT');
        if (this.txWrote) this.full = false;
        if (changes.length) this.changesCommitted.emit();
        return result;
      } catch (error) {
        // SQLite may already have rolled back (it does on SQLITE_FULL); either way none of it stays.
        if (this.connection.isTransaction) this.connection.exec('ROLLBACK');
        const translated = translate(error);
        if (translated instanceof StoreFull) this.full = true;
        throw translated;
      }
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  async ping(): Promise<void> {
    await this.outside.all('SELECT 1');
    if (this.full) await this.probeWrite();
  }

  /**
   * Commits a write that needs fresh pages (and removes it in the same transaction): tells whether the disk has
   * room again. A rolled-back write would prove nothing, since WAL mode writes nothing for it.
   */
  private async probeWrite(): Promise<void> {
    await this.transaction(async () => {
      this.connection
        .prepare("INSERT INTO state (key, value, updated_at) VALUES ('bridge.probe', hex(randomblob(8192)), '') ON CONFLICT (key) DO NOTHING")
        .run();
      this.connection.prepare("DELETE FROM state WHERE key = 'bridge.probe'").run();
    });
    this.full = false;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.reader?.close();
    if (this.connection.isOpen) this.connection.close();
  }
}
