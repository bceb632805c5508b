/**
 * The PostgreSQL store, for replicas that autoscale: every replica shares one database, and correctness
 * under concurrency comes from the database (unique constraints, row locks, transactions), never from
 * in-process locks. When the database is unreachable requests fail fast with StoreUnavailable (a 503 that
 * identity providers retry) and the pool reconnects by itself when it returns.
 */
import { readFileSync } from 'node:fs';
import { Pool, type PoolClient, type PoolConfig } from 'pg';
import { parse as parseConnectionString } from 'pg-connection-string';
import { BRIDGE_ENV, BRIDGE_SIZING } from '../../../contract';
import { ConfigError } from '../config';
import type { Dialect } from './sql-filter';
import { type SqlExecutor, SqlStoreTx, directoryCounts, listEvents, seedProtectedGroups } from './sql-store';
import { type DirectoryCounts, type EventQuery, type ProvisioningEvent, type Store, StoreUnavailable, type StoreTx, UniqueViolation } from './types';

const jsonPath = (keys: readonly string[]) => `'{${keys.map((k) => `"${k}"`).join(',')}}'`;

export const postgresDialect: Dialect = {
  placeholder: (index) => `$${index}`,
  jsonText: (source, keys) => `(${source} #>> ${jsonPath(keys)})`,
  jsonElements: (source, keys, alias) => ({ from: `jsonb_array_elements(${source} #> ${jsonPath(keys)}) AS ${alias}(value)`, element: `${alias}.value` }),
  jsonBoolean: (expr, value) => `${expr} = '${value}'`,
  booleanParam: (value) => value,
  contains: (expr, param) => `strpos(${expr}, ${param}::text) > 0`,
  startsWith: (expr, param) => `starts_with(${expr}, ${param}::text)`,
  endsWith: (expr, param) => `right(${expr}, char_length(${param}::text)) = ${param}::text`,
  not: (condition) => `NOT COALESCE(${condition}, false)`,
  numeric: (expr) => `(${expr})::numeric`,
};

/** Applied in order under an advisory lock, so replicas starting together migrate once; never rewritten. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE users (
     id text PRIMARY KEY,
     user_name text NOT NULL,
     user_name_lc text NOT NULL UNIQUE,
     external_id text,
     display_name text,
     active boolean NOT NULL,
     doc jsonb NOT NULL,
     version integer NOT NULL,
     created text NOT NULL,
     last_modified text NOT NULL
   );
   CREATE INDEX users_external_id ON users (external_id);
   CREATE INDEX users_created ON users (created, id);
   CREATE INDEX users_last_modified ON users (last_modified);
   CREATE TABLE groups (
     id text PRIMARY KEY,
     display_name text NOT NULL,
     display_name_lc text NOT NULL UNIQUE,
     external_id text,
     managed boolean NOT NULL,
     protected boolean NOT NULL,
     doc jsonb NOT NULL,
     version integer NOT NULL,
     created text NOT NULL,
     last_modified text NOT NULL
   );
   CREATE INDEX groups_external_id ON groups (external_id);
   CREATE INDEX groups_created ON groups (created, id);
   CREATE TABLE group_members (
     group_id text NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
     user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
     PRIMARY KEY (group_id, user_id)
   );
   CREATE INDEX group_members_user ON group_members (user_id, group_id);
   CREATE TABLE events (
     id bigserial PRIMARY KEY,
     at text NOT NULL,
     actor text NOT NULL,
     action text NOT NULL,
     resource_type text,
     resource_id text,
     resource_name text,
     outcome text NOT NULL,
     status integer NOT NULL,
     request_id text,
     detail text
   );
   CREATE INDEX events_at ON events (at);`,
  // Leases (one replica runs a job at a time) and small shared state, e.g. the directory sync's progress.
  `CREATE TABLE leases (name text PRIMARY KEY, holder text NOT NULL, expires_at timestamptz NOT NULL);
   CREATE TABLE state (key text PRIMARY KEY, value text NOT NULL, updated_at text NOT NULL);`,
];

/** Any 32-bit key unique to this application: replicas wait on it while one of them migrates. */
const MIGRATION_LOCK = 0x5c1b_0001;
const TRANSACTION_ATTEMPTS = 4;

/** SQLSTATE classes and codes that mean "the database is not there right now". */
function isUnavailable(error: unknown): boolean {
  const err = error as { code?: string; message?: string };
  const code = err?.code ?? '';
  if (/^(08|57P0|53)/.test(code)) return true; // connection exception, admin shutdown, insufficient resources
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'EPIPE'].includes(code)) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection timeout|Query read timeout/i.test(err?.message ?? '');
}

function translate(error: unknown): unknown {
  const err = error as { code?: string; constraint?: string };
  if (err?.code === '23505') {
    const constraint = err.constraint ?? '';
    return new UniqueViolation(constraint.includes('user_name') ? 'userName' : constraint.includes('display_name') ? 'displayName' : constraint);
  }
  if (err?.code === '57014') return new StoreUnavailable('a database statement timed out', { cause: error });
  if (isUnavailable(error)) return new StoreUnavailable('the database is unreachable', { cause: error });
  return error;
}

class PgExecutor implements SqlExecutor {
  constructor(private readonly client: Pool | PoolClient) {}

  async all<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    try {
      return (await this.client.query(sql, params as unknown[])).rows as T[];
    } catch (error) {
      throw translate(error);
    }
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    try {
      return (await this.client.query(sql, params as unknown[])).rowCount ?? 0;
    } catch (error) {
      throw translate(error);
    }
  }
}

/** Rows read inside a transaction are locked until it ends: concurrent writers queue instead of racing. */
class PgTx extends SqlStoreTx {
  constructor(client: PoolClient) {
    super(new PgExecutor(client), postgresDialect);
  }
  override async getUser(id: string) {
    const [row] = await this.db.all('SELECT id FROM users WHERE id = $1 FOR UPDATE', [id]);
    return row ? super.getUser(id) : undefined;
  }
  override async getGroup(id: string) {
    const [row] = await this.db.all('SELECT id FROM groups WHERE id = $1 FOR UPDATE', [id]);
    return row ? super.getGroup(id) : undefined;
  }
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|::1|\[::1\])$/i;

/**
 * Pool settings from SCIM_DATABASE_URL with the libpq environment filling the gaps (pg reads PGHOST,
 * PGUSER, PGPASSWORD, PGDATABASE, PGPORT itself). TLS follows libpq's sslmode: `require` encrypts,
 * `verify-full` also checks the server certificate (PGSSLROOTCERT for a private CA); the default is
 * `require` for any host that is not loopback or a Unix socket.
 */
export function poolConfig(url: string, env: NodeJS.ProcessEnv): PoolConfig {
  // sslmode is read here with libpq's meaning; the driver's own reading treats `require` as `verify-full`.
  const sslmodeParam = /[?&]sslmode=([^&]*)/i.exec(url)?.[1];
  const withoutSslmode = url.replace(/([?&])sslmode=[^&]*(&?)/i, (_m, lead: string, tail: string) => (tail ? lead : '')).replace(/[?&]$/, '');
  let parsed: ReturnType<typeof parseConnectionString>;
  try {
    parsed = parseConnectionString(withoutSslmode);
  } catch {
    throw new ConfigError('SCIM_DATABASE_URL is not a valid postgres:// URL');
  }
  if (parsed.port && !/^\d{1,5}$/.test(parsed.port)) throw new ConfigError(`SCIM_DATABASE_URL has an invalid port "${parsed.port}"`);
  const host = parsed.host || env.PGHOST || 'localhost';
  const local = host.startsWith('/') || LOOPBACK.test(host);
  const mode = (sslmodeParam ?? env.PGSSLMODE ?? (local ? 'disable' : 'require')).toLowerCase();
  const modes = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];
  if (!modes.includes(mode)) throw new ConfigError(`sslmode must be one of ${modes.join(', ')} (got "${mode}")`);
  const rootCert = env.PGSSLROOTCERT ? readFileSync(env.PGSSLROOTCERT, 'utf8') : undefined;
  const ssl =
    mode === 'disable' || mode === 'allow' || (mode === 'prefer' && local)
      ? false
      : mode === 'verify-ca' || mode === 'verify-full'
        ? { rejectUnauthorized: true, ...(rootCert ? { ca: rootCert } : {}), ...(mode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}) }
        : { rejectUnauthorized: false };
  const max = Number(env[BRIDGE_ENV.databasePoolSize] || BRIDGE_SIZING.databasePoolSize);
  return {
    // Whatever the URL leaves out, pg fills from PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE.
    host: parsed.host || undefined,
    port: parsed.port ? Number(parsed.port) : undefined,
    user: parsed.user || undefined,
    password: parsed.password || undefined,
    database: parsed.database || undefined,
    ssl,
    max: Number.isInteger(max) && max > 0 ? max : BRIDGE_SIZING.databasePoolSize,
    idleTimeoutMillis: 30_000,
    // Fail fast: an identity provider retries a 503 sooner than it waits for a hung request.
    connectionTimeoutMillis: 2_000,
    statement_timeout: 10_000,
    query_timeout: 15_000,
    application_name: 'scim-bridge',
  };
}

export class PostgresStore extends SqlStoreTx implements Store {
  readonly kind = 'postgres' as const;

  static async connect(url: string, env: NodeJS.ProcessEnv = process.env): Promise<PostgresStore> {
    return new PostgresStore(new Pool(poolConfig(url, env)));
  }

  private constructor(private readonly pool: Pool) {
    super(new PgExecutor(pool), postgresDialect);
    // An idle connection dropped by a database restart must not crash the process; the pool replaces it.
    pool.on('error', () => undefined);
  }

  async migrate(): Promise<void> {
    await this.transaction(async () => undefined, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at text NOT NULL)');
      const { rows } = await client.query('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations');
      for (let version = Number(rows[0].v) + 1; version <= MIGRATIONS.length; version++) {
        await client.query(MIGRATIONS[version - 1]);
        await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [version, new Date().toISOString()]);
      }
      await seedProtectedGroups(new PgExecutor(client), postgresDialect);
    });
  }

  async transaction<T>(work: (tx: StoreTx) => Promise<T>, setup?: (client: PoolClient) => Promise<void>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let client: PoolClient;
      try {
        client = await this.pool.connect();
      } catch (error) {
        throw translate(error);
      }
      let broken = false;
      try {
        await client.query('BEGIN');
        if (setup) await setup(client);
        const result = await work(new PgTx(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => (broken = true));
        const code = (error as { code?: string }).code ?? ((error as { cause?: { code?: string } }).cause?.code);
        // Serialization failures and deadlocks are the database asking for a retry.
        if ((code === '40001' || code === '40P01') && attempt < TRANSACTION_ATTEMPTS) continue;
        throw translate(error);
      } finally {
        client.release(broken);
      }
    }
  }

  async ping(): Promise<void> {
    await new PgExecutor(this.pool).all('SELECT 1');
  }

  counts(): Promise<DirectoryCounts> {
    return directoryCounts(new PgExecutor(this.pool), postgresDialect);
  }

  listEvents(query: EventQuery): Promise<ProvisioningEvent[]> {
    return listEvents(new PgExecutor(this.pool), query);
  }

  async pruneEvents(olderThan: string): Promise<number> {
    return new PgExecutor(this.pool).run('DELETE FROM events WHERE at < $1', [olderThan]);
  }

  // The database's clock decides expiry, so replicas with skewed clocks still agree on who holds a lease.
  async tryAcquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const changed = await new PgExecutor(this.pool).run(
      `INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond')
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE leases.holder = excluded.holder OR leases.expires_at <= clock_timestamp()`,
      [name, holder, ttlMs],
    );
    return changed === 1;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await new PgExecutor(this.pool).run('DELETE FROM leases WHERE name = $1 AND holder = $2', [name, holder]);
  }

  async getState(key: string): Promise<string | undefined> {
    const [row] = await new PgExecutor(this.pool).all<{ value: string }>('SELECT value FROM state WHERE key = $1', [key]);
    return row?.value;
  }

  async setState(key: string, value: string): Promise<void> {
    await new PgExecutor(this.pool).run(
      'INSERT INTO state (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
      [key, value, new Date().toISOString()],
    );
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
