/**
 * The embedded store: one SQLite file through Node's built-in `node:sqlite` (no native build, no server).
 * One connection, WAL journal, synchronous=FULL so an acknowledged write survives a crash. Transactions are
 * serialized in-process (SQLite has one writer anyway), which also keeps concurrent requests from
 * interleaving on the shared connection.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { Dialect } from './sql-filter';
import { type SqlExecutor, SqlStoreTx, directoryCounts, listEvents, seedProtectedGroups } from './sql-store';
import { type DirectoryCounts, type EventQuery, type ProvisioningEvent, type Store, type StoreTx, UniqueViolation } from './types';

const jsonPath = (keys: readonly string[]) => `'$${keys.map((k) => `."${k}"`).join('')}'`;

export const sqliteDialect: Dialect = {
  placeholder: (index) => `?${index}`,
  jsonText: (source, keys) => `json_extract(${source}, ${jsonPath(keys)})`,
  jsonElements: (source, keys, alias) => ({ from: `json_each(${source}, ${jsonPath(keys)}) AS ${alias}`, element: `${alias}.value` }),
  jsonBoolean: (expr, value) => `${expr} = ${value ? 1 : 0}`,
  booleanParam: (value) => (value ? 1 : 0),
  contains: (expr, param) => `instr(${expr}, ${param}) > 0`,
  startsWith: (expr, param) => `substr(${expr}, 1, length(${param})) = ${param}`,
  endsWith: (expr, param) => `(length(${param}) = 0 OR substr(${expr}, -length(${param})) = ${param})`,
  not: (condition) => `NOT COALESCE(${condition}, 0)`,
  numeric: (expr) => expr,
};

/** Schema versions, applied in order and never rewritten: a new change is a new entry. */
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
  // Leases (one replica runs a job at a time) and small shared state, e.g. the directory sync's progress.
  `CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at INTEGER NOT NULL);
   CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL);`,
];

class SqliteExecutor implements SqlExecutor {
  private readonly statements = new Map<string, StatementSync>();
  constructor(private readonly db: DatabaseSync) {}

  private statement(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql.replace(/\$(\d+)/g, '?$1'));
      // Cache only the statements that recur (not the chunked IN lists of every size).
      if (this.statements.size < 500) this.statements.set(sql, statement);
    }
    return statement;
  }

  async all<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.wrap(() => this.statement(sql).all(...(params as never[]))) as T[];
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return this.wrap(() => Number(this.statement(sql).run(...(params as never[])).changes));
  }

  private wrap<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      const message = (error as Error).message ?? '';
      const unique = /UNIQUE constraint failed: (\w+)\.(\w+)/.exec(message);
      if (unique) throw new UniqueViolation(unique[2] === 'user_name_lc' ? 'userName' : unique[2] === 'display_name_lc' ? 'displayName' : unique[2]);
      throw error;
    }
  }
}

export class SqliteStore extends SqlStoreTx implements Store {
  readonly kind = 'sqlite' as const;
  private readonly connection: DatabaseSync;
  private readonly executor: SqliteExecutor;
  private queue: Promise<unknown> = Promise.resolve();

  /** Opens (creating if needed) the database file; `:memory:` for a throwaway store. */
  static open(path: string): SqliteStore {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const connection = new DatabaseSync(path);
    connection.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;');
    return new SqliteStore(connection);
  }

  private constructor(connection: DatabaseSync) {
    const executor = new SqliteExecutor(connection);
    super(executor, sqliteDialect);
    this.connection = connection;
    this.executor = executor;
  }

  async migrate(): Promise<void> {
    this.connection.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    await this.transaction(async () => {
      const [row] = await this.executor.all<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
      for (let version = (row?.v ?? 0) + 1; version <= MIGRATIONS.length; version++) {
        this.connection.exec(MIGRATIONS[version - 1]);
        await this.executor.run('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [version, new Date().toISOString()]);
      }
      await seedProtectedGroups(this.executor, sqliteDialect);
    });
  }

  async transaction<T>(work: (tx: StoreTx) => Promise<T>): Promise<T> {
    const run = async () => {
      this.connection.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(this);
        this.connection.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.connection.isTransaction) this.connection.exec('ROLLBACK');
        throw error;
      }
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  async ping(): Promise<void> {
    await this.executor.all('SELECT 1');
  }

  counts(): Promise<DirectoryCounts> {
    return directoryCounts(this.executor, sqliteDialect);
  }

  listEvents(query: EventQuery): Promise<ProvisioningEvent[]> {
    return listEvents(this.executor, query);
  }

  async pruneEvents(olderThan: string): Promise<number> {
    return this.executor.run('DELETE FROM events WHERE at < $1', [olderThan]);
  }

  // Writes go through the transaction queue: on the shared connection they would otherwise join (and could be
  // rolled back with) a request's open transaction.
  async tryAcquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const changed = await this.transaction(() => this.executor.run(
      `INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE leases.holder = excluded.holder OR leases.expires_at <= $4`,
      [name, holder, now + ttlMs, now],
    ));
    return changed === 1;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.transaction(() => this.executor.run('DELETE FROM leases WHERE name = $1 AND holder = $2', [name, holder]));
  }

  async getState(key: string): Promise<string | undefined> {
    const [row] = await this.executor.all<{ value: string }>('SELECT value FROM state WHERE key = $1', [key]);
    return row?.value;
  }

  async setState(key: string, value: string): Promise<void> {
    await this.transaction(() => this.executor.run(
      'INSERT INTO state (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
      [key, value, new Date().toISOString()],
    ));
  }

  async close(): Promise<void> {
    await this.queue;
    if (this.connection.isOpen) this.connection.close();
  }
}
