/**
 * The PostgreSQL store, for replicas that autoscale: every replica shares one database, and correctness
 * under concurrency comes from the database (unique constraints, row locks, transactions), never from
 * in-process locks.
 *
 * Faults never kill the process: every pooled connection has an `error` listener (a connection dropped while
 * checked out, e.g. mid-transaction when the server restarts, would otherwise be an unhandled `error` event),
 * and every failure becomes a typed StoreUnavailable (a 503 with Retry-After that identity providers retry):
 * unreachable, timed out, pool exhausted (this replica's connections are all busy: the database is fine), full,
 * or misconfigured (a certificate, a privilege, a password: one line for the operator). The pool reconnects by
 * itself when the database returns.
 *
 * Each statement text is a named prepared statement per connection (planned once, not on every call), and a
 * look-up is one round trip.
 */
import { Pool, type PoolClient, type PoolConfig, type QueryConfig } from 'pg';
import { parse as parseConnectionString } from 'pg-connection-string';
import { BRIDGE_ENV, BRIDGE_SIZING } from '../../../contract';
import { ConfigError } from '../config';
import { boundedMembersJson } from './group-page';
import { referenceGone } from './integrity';
import { NAME_KEY_MIGRATION, recomputeNameKeys } from './name-keys';
import { LIST_DEADLINE_MS, listTimedOut } from './list-deadline';
import { type TlsSettings, describeTlsFailure, tlsSettings } from './pg-tls';
import { CHANGE_LOG_LOCK, SEQUENCE_CHANGES, writeChanges } from './change-log';
import type { Dialect } from './sql-filter';
import { type SqlExecutor, SqlStore, SqlStoreTx, assertStorable } from './sql-store';
import { seedProtectedGroups } from './seed';
import {
  type Store,
  StoreFull,
  StoreMisconfigured,
  StorePoolExhausted,
  StoreRefused,
  StoreTimeout,
  type StoreTx,
  StoreUnavailable,
  UniqueViolation,
  type UserReadOptions,
  type UserRecord,
} from './types';

const jsonPath = (keys: readonly string[]) => `'{${keys.map((k) => `"${k}"`).join(',')}}'`;

export const postgresDialect: Dialect = {
  placeholder: (index) => `$${index}`,
  jsonText: (source, keys) => `(${source} #>> ${jsonPath(keys)})`,
  jsonElements: (source, keys, alias) => ({ from: `jsonb_array_elements(${source} #> ${jsonPath(keys)}) AS ${alias}(value)`, element: `${alias}.value` }),
  jsonBoolean: (expr, param) => `${expr} = ${param}::text`,
  jsonBooleanParam: (value) => (value ? 'true' : 'false'),
  booleanParam: (value) => value,
  contains: (expr, param) => `strpos(${expr}, ${param}::text) > 0`,
  startsWith: (expr, param) => `starts_with(${expr}, ${param}::text)`,
  endsWith: (expr, param) => `right(${expr}, char_length(${param}::text)) = ${param}::text`,
  not: (condition) => `NOT COALESCE(${condition}, false)`,
  numeric: (expr) => `(${expr})::numeric`,
  fold: (expr) => `lower((${expr})::text)`,
  groupsOfUserJson:
    "(SELECT COALESCE(json_agg(json_build_array(g.id, g.display_name, g.display_name_lc)), '[]'::json) FROM group_members gm JOIN groups g ON g.id = gm.group_id WHERE gm.user_id = users.id)",
  membersOfGroupJson: boundedMembersJson({
    aggregate: (element, order) => `COALESCE(json_agg(json_build_array(${element}) ORDER BY ${order}), '[]'::json)`,
    length: 'char_length',
    least: 'LEAST',
  }),
  nowMs: '(extract(epoch from clock_timestamp()) * 1000)::bigint',
};

/**
 * Applied in order under an advisory lock, so replicas starting together migrate once; never rewritten. Every
 * entry is additive (expand), so the previous release keeps working on the new schema during a rolling deploy;
 * destructive steps (contract) come a release later. See docs/upgrading.md and test/upgrade.
 */
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
  // 2: leases (one replica runs a periodic job) and a small key-value state (its checkpoints).
  `CREATE TABLE leases (
     name text PRIMARY KEY,
     holder text NOT NULL,
     expires_at bigint NOT NULL
   );
   CREATE TABLE state (
     key text PRIMARY KEY,
     value text NOT NULL,
     updated_at text NOT NULL
   );`,
  // 3: the change log (bridge/src/store/change-log.ts): every accepted change, in the write's own transaction. A
  // change gets its position only once it has committed (sequenceChanges), so positions commit in order.
  `CREATE TABLE changes (
     seq bigserial PRIMARY KEY,
     position bigint UNIQUE,
     directory text NOT NULL,
     at text NOT NULL,
     type text NOT NULL,
     resource_type text NOT NULL,
     resource_id text NOT NULL,
     resource_version integer NOT NULL,
     actor text NOT NULL,
     request_id text,
     state jsonb,
     changed jsonb,
     members jsonb
   );
   CREATE INDEX changes_directory ON changes (directory, position);
   CREATE INDEX changes_unsequenced ON changes (seq) WHERE position IS NULL;
   CREATE INDEX changes_at ON changes (at);`,
  // 4: name keys recomputed with full case folding (name-keys.ts runs it in JavaScript: the databases fold otherwise).
  '-- name keys: see name-keys.ts',
  // 5: webhook endpoints: declared (configuration) and registered (CLI) alike, with each one's delivery progress.
  `CREATE TABLE IF NOT EXISTS webhook_endpoints (
     id text PRIMARY KEY,
     name text NOT NULL UNIQUE,
     url text NOT NULL,
     events text,
     source text NOT NULL,
     secret text,
     directory text NOT NULL,
     position bigint NOT NULL,
     attempts integer NOT NULL,
     failing_since bigint,
     next_attempt_at bigint NOT NULL,
     last_attempt_at bigint,
     last_status integer,
     last_error text,
     last_delivered_at bigint,
     delivered bigint NOT NULL,
     failures bigint NOT NULL,
     paused boolean NOT NULL,
     dead_position bigint,
     dead_at bigint,
     revision integer NOT NULL,
     created text NOT NULL
   );`,
  // 6: the deprovisioning guard: changes not yet in the feed, and the holds an operator decides on (idempotent: a
  // test rewinds a store to an earlier version and migrates it again).
  `CREATE TABLE IF NOT EXISTS holds (
     id bigserial PRIMARY KEY,
     directory text NOT NULL,
     actor text NOT NULL,
     started_at text NOT NULL,
     reason text NOT NULL,
     state text NOT NULL,
     decided_at text,
     decided_by text
   );
   CREATE INDEX IF NOT EXISTS holds_actor ON holds (actor, state);
   CREATE TABLE IF NOT EXISTS pending_changes (
     seq bigserial PRIMARY KEY,
     directory text NOT NULL,
     at text NOT NULL,
     actor text NOT NULL,
     resource_key text NOT NULL,
     type text NOT NULL,
     people integer NOT NULL,
     subjects text NOT NULL,
     hold_id bigint,
     state text NOT NULL,
     change jsonb NOT NULL
   );
   CREATE INDEX IF NOT EXISTS pending_changes_resource ON pending_changes (resource_key, state);
   CREATE INDEX IF NOT EXISTS pending_changes_hold ON pending_changes (hold_id, seq);
   CREATE INDEX IF NOT EXISTS pending_changes_actor ON pending_changes (actor, at);`,
];

/** The schema version this code migrates to (tests of the upgrade path read it). */
export const POSTGRES_SCHEMA_VERSION = MIGRATIONS.length;
/** The migrations themselves, for the test that holds every one of them to the expand-only rule. */
export const POSTGRES_MIGRATIONS = MIGRATIONS;

/**
 * How long any of the bridge's transactions may sit idle between statements before the server ends it: a replica
 * frozen or cut off mid-write (a paused VM, a partition) would otherwise hold its row locks, and block every other
 * replica's writes to those rows, until the server dropped the dead connection (TCP keepalive: hours). Far above
 * the gaps of a live transaction (one statement follows another at once).
 */
export const IDLE_TRANSACTION_LIMIT_MS = 15_000;

/**
 * How long the transaction that numbers changes may sit idle holding the change log's lock before the server ends
 * it: a frozen replica delays every replica's feed by at most this (sequenceChanges).
 */
export const NUMBERING_IDLE_LIMIT_MS = 5000;

/** Any 32-bit key unique to this application: replicas wait on it while one of them migrates. */
const MIGRATION_LOCK = 0x5c1b_0001;
const TRANSACTION_ATTEMPTS = 4;

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);
const DROPPED =
  /Connection terminated|Client has encountered a connection error|connection timeout|Query read timeout|Client was closed|terminating connection/i;

/** What the store knows about its connection, for turning driver errors into operator-readable ones. */
interface Context {
  readonly host: string;
  readonly user: string;
  readonly tls: TlsSettings;
  /** Connections checked out right now, and the pool's size: tells a saturated replica from an unreachable database. */
  busy(): boolean;
  noteFull(): void;
  /** An operator's line, logged once (clients only ever see a generic 503). */
  warnOnce(line: string): void;
}

/** The error, or the driver error a store failure wraps, says the connection itself is gone or hung. */
function lostConnection(error: unknown): boolean {
  for (let e = error as { message?: string; code?: string; cause?: unknown } | undefined, depth = 0; e && depth < 3; e = e.cause as typeof e, depth++) {
    if (DROPPED.test(e.message ?? '') || NETWORK_CODES.has(e.code ?? '')) return true;
  }
  return false;
}

function translate(error: unknown, context: Context): unknown {
  const translated = classify(error, context);
  if (translated instanceof StoreMisconfigured) context.warnOnce(translated.operatorMessage);
  return translated;
}

function classify(error: unknown, context: Context): unknown {
  if (error instanceof StoreUnavailable || error instanceof UniqueViolation || error instanceof StoreRefused) return error;
  const err = error as { code?: string; constraint?: string; message?: string };
  const code = err?.code ?? '';
  const message = err?.message ?? '';
  if (code === '23505') {
    const constraint = err.constraint ?? '';
    return new UniqueViolation(constraint.includes('user_name') ? 'userName' : constraint.includes('display_name') ? 'displayName' : constraint);
  }
  // A foreign key refused a write: what it names was deleted by a concurrent request (integrity.ts).
  if (code === '23503') return referenceGone((err.constraint ?? '').includes('group_id') ? 'group' : 'member');
  // 57014: the server cancelled the statement (statement_timeout); pg's query_timeout: the server never answered.
  if (code === '57014' || /Query read timeout/.test(message)) return new StoreTimeout({ cause: error });
  if (code === '53100') {
    context.noteFull();
    return new StoreFull({ cause: error });
  }
  if (code === '42501' || code === '3F000') {
    return new StoreMisconfigured(
      `the database role "${context.user}" lacks a privilege the bridge needs (${message}); run "scim-bridge db bootstrap" once with ${BRIDGE_ENV.databaseAdminUrl} set to an administrator's URL`,
      { cause: error },
    );
  }
  if (code === '28P01' || code === '28000') {
    return new StoreMisconfigured(
      `the database refused role "${context.user}" (${message}); check the password in ${BRIDGE_ENV.databaseUrl} (or PGPASSWORD), or run "scim-bridge db bootstrap"`,
      { cause: error },
    );
  }
  if (code === '3D000')
    return new StoreMisconfigured(`the database does not exist (${message}); create it, or run "scim-bridge db bootstrap"`, { cause: error });
  const tlsLine = describeTlsFailure(error, context.host, context.tls);
  if (tlsLine) return new StoreMisconfigured(tlsLine, { cause: error });
  if (/timeout exceeded when trying to connect/i.test(message)) {
    // pg-pool's wait for a free connection ran out: saturated if every connection is busy, else the database is slow to accept.
    return context.busy() ? new StorePoolExhausted({ cause: error }) : new StoreUnavailable(undefined, { cause: error });
  }
  if (/^(08|57P0|53)/.test(code) || NETWORK_CODES.has(code) || DROPPED.test(message)) return new StoreUnavailable(undefined, { cause: error });
  return error;
}

/** Gives each distinct statement text a name, so each connection parses and plans it once. */
class StatementNames {
  private readonly names = new Map<string, string>();
  constructor(private readonly enabled: boolean) {}
  /** Undefined for texts past the cap (e.g. IN lists of every length): those stay unnamed. */
  name(sql: string): string | undefined {
    if (!this.enabled) return undefined;
    let name = this.names.get(sql);
    if (name === undefined && this.names.size < 256) this.names.set(sql, (name = `scim_${this.names.size}`));
    return name;
  }
}

class PgExecutor implements SqlExecutor {
  constructor(
    private readonly client: Pool | PoolClient,
    private readonly names: StatementNames,
    private readonly context: Context,
    /** Set on the pool's executor: list queries run under this statement_timeout (list-deadline.ts). */
    listDeadlineMs?: number,
  ) {
    if (listDeadlineMs !== undefined) this.bounded = (_cost, work) => this.boundedRead(listDeadlineMs, work);
  }

  readonly bounded?: SqlExecutor['bounded'];

  /**
   * A list's statements on one connection, in a read-only transaction whose statement_timeout is the list
   * deadline: the server cancels a statement past it (and frees the connection), which the client sees as 400.
   */
  private async boundedRead<T>(ms: number, work: (db: SqlExecutor) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await (this.client as Pool).connect();
    } catch (error) {
      throw translate(error, this.context);
    }
    let broken = false;
    try {
      await client.query(`BEGIN READ ONLY; SET LOCAL statement_timeout = ${Math.max(1, Math.floor(ms))}`);
      const result = await work(new PgExecutor(client, this.names, this.context));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      if (lostConnection(error)) broken = true;
      else await client.query('ROLLBACK').catch(() => (broken = true));
      const cause = error instanceof StoreTimeout ? (error.cause as { code?: string } | undefined) : undefined;
      if (cause?.code === '57014') throw listTimedOut(ms);
      throw translate(error, this.context);
    } finally {
      client.release(broken);
    }
  }

  private async query(sql: string, params: readonly unknown[], arrays: boolean) {
    assertStorable(params);
    const config: QueryConfig = { text: sql, values: params as unknown[], name: this.names.name(sql) };
    if (arrays) (config as { rowMode?: string }).rowMode = 'array';
    try {
      return await this.client.query(config);
    } catch (error) {
      throw translate(error, this.context);
    }
  }

  async all<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return (await this.query(sql, params, false)).rows as T[];
  }

  async rows(sql: string, params: readonly unknown[] = []): Promise<unknown[][]> {
    return (await this.query(sql, params, true)).rows as unknown[][];
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return (await this.query(sql, params, false)).rowCount ?? 0;
  }
}

/** Rows read inside a transaction are locked until it ends: concurrent writers queue instead of racing. */
class PgTx extends SqlStoreTx {
  override async getUser(id: string, options?: UserReadOptions): Promise<UserRecord | undefined> {
    if (options?.withGroups) {
      const [row] = await this.db.rows('SELECT id FROM users WHERE id = $1 FOR UPDATE', [id]);
      return row ? super.getUser(id, options) : undefined;
    }
    const [row] = await this.db.rows(
      'SELECT users.id, users.active, users.doc, users.version, users.created, users.last_modified FROM users WHERE users.id = $1 FOR UPDATE',
      [id],
    );
    return row ? this.toUserRow(row) : undefined;
  }
  override async getGroup(id: string) {
    const [row] = await this.db.rows(
      'SELECT groups.id, groups.display_name, groups.external_id, groups.managed, groups.protected, groups.doc, groups.version, groups.created, groups.last_modified FROM groups WHERE groups.id = $1 FOR UPDATE',
      [id],
    );
    return row ? this.toGroupRow(row) : undefined;
  }
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|::1|\[::1\])$/i;

export interface ConnectionSettings {
  readonly pool: PoolConfig;
  readonly tls: TlsSettings;
  readonly host: string;
  readonly user: string;
  readonly preparedStatements: boolean;
}

/** Removes `name=` from a URL's query, returning its value and the URL without it. */
function takeParam(url: string, name: string): { value?: string; rest: string } {
  const pattern = new RegExp(`([?&])${name}=([^&]*)(&?)`, 'i');
  const match = pattern.exec(url);
  if (!match) return { rest: url };
  const rest = url.replace(pattern, (_m, lead: string, _v: string, tail: string) => (tail ? lead : '')).replace(/[?&]$/, '');
  return { value: decodeURIComponent(match[2]), rest };
}

/**
 * Connection settings from SCIM_DATABASE_URL with the libpq environment filling the gaps (pg reads PGHOST,
 * PGUSER, PGPASSWORD, PGDATABASE, PGPORT itself), and TLS as libpq means it (pg-tls.ts).
 */
export function connectionSettings(url: string, env: NodeJS.ProcessEnv): ConnectionSettings {
  // sslmode and sslrootcert are read here with libpq's meaning, not handed to the driver's own reading.
  const sslmode = takeParam(url, 'sslmode');
  const sslrootcert = takeParam(sslmode.rest, 'sslrootcert');
  let parsed: ReturnType<typeof parseConnectionString>;
  try {
    parsed = parseConnectionString(sslrootcert.rest);
  } catch (error) {
    throw new ConfigError(`${BRIDGE_ENV.databaseUrl} is not a valid postgres:// URL (${(error as Error).message.split('\n')[0]})`);
  }
  if (parsed.port && !/^\d{1,5}$/.test(parsed.port)) throw new ConfigError(`${BRIDGE_ENV.databaseUrl} has an invalid port "${parsed.port}"`);
  const host = parsed.host || env.PGHOST || 'localhost';
  const local = host.startsWith('/') || LOOPBACK.test(host);
  const clientCert = typeof parsed.ssl === 'object' && parsed.ssl ? (parsed.ssl as { cert?: unknown; key?: unknown }) : undefined;
  const tls = tlsSettings(host, local, { sslmode: sslmode.value, sslrootcert: sslrootcert.value }, env, clientCert);
  const max = Number(env[BRIDGE_ENV.databasePoolSize] || BRIDGE_SIZING.databasePoolSize);
  const preparedStatements = !/^(false|0|no|off)$/i.test(env[BRIDGE_ENV.databasePreparedStatements] ?? '');
  return {
    host,
    user: parsed.user || env.PGUSER || env.USER || 'postgres',
    tls,
    preparedStatements,
    pool: {
      // Whatever the URL leaves out, pg fills from PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE.
      host: parsed.host || undefined,
      port: parsed.port ? Number(parsed.port) : undefined,
      user: parsed.user || undefined,
      password: parsed.password || undefined,
      database: parsed.database || undefined,
      ssl: tls.ssl,
      max: Number.isInteger(max) && max > 0 ? max : BRIDGE_SIZING.databasePoolSize,
      idleTimeoutMillis: 30_000,
      // Fail fast: an identity provider retries a 503 sooner than it waits for a hung request.
      connectionTimeoutMillis: 2_000,
      statement_timeout: 10_000,
      query_timeout: 15_000,
      // A transaction whose replica stopped sending (frozen, partitioned) is ended by the server, with its locks.
      idle_in_transaction_session_timeout: IDLE_TRANSACTION_LIMIT_MS,
      application_name: 'scim-bridge',
    },
  };
}

/** The pool settings alone (kept for callers that only need those). */
export function poolConfig(url: string, env: NodeJS.ProcessEnv): PoolConfig {
  return connectionSettings(url, env).pool;
}

export interface PostgresOptions {
  /** Where start-up warnings go (an encrypted but unverified connection). @default a JSON log line on stdout */
  readonly warn?: (line: string) => void;
  /** @default LIST_DEADLINE_MS */
  readonly listDeadlineMs?: number;
}

const defaultWarn = (line: string) => process.stdout.write(`${JSON.stringify({ level: 40, time: Date.now(), msg: line })}\n`);

export class PostgresStore extends SqlStore implements Store {
  readonly kind = 'postgres' as const;
  private readonly names: StatementNames;
  private readonly context: Context;
  private readonly executor: PgExecutor;
  private checkedOut = 0;
  private full = false;
  private migrated = false;

  static async connect(url: string, env: NodeJS.ProcessEnv = process.env, options: PostgresOptions = {}): Promise<PostgresStore> {
    const settings = connectionSettings(url, env);
    const warn = options.warn ?? defaultWarn;
    for (const line of settings.tls.warnings) warn(line);
    return new PostgresStore(new Pool(settings.pool), settings, warn, options.listDeadlineMs ?? LIST_DEADLINE_MS);
  }

  private constructor(
    private readonly pool: Pool,
    settings: ConnectionSettings,
    warn: (line: string) => void,
    listDeadlineMs: number,
  ) {
    const warned = new Set<string>();
    const names = new StatementNames(settings.preparedStatements);
    const max = settings.pool.max ?? BRIDGE_SIZING.databasePoolSize;
    const context: Context = {
      host: settings.host,
      user: settings.user,
      tls: settings.tls,
      busy: () => this.checkedOut >= max,
      noteFull: () => {
        this.full = true;
      },
      warnOnce: (line) => {
        // Before the first migration succeeded, the start-up path reports it (one line, then exit).
        if (!this.migrated || warned.has(line) || warned.size > 50) return;
        warned.add(line);
        warn(line);
      },
    };
    const executor = new PgExecutor(pool, names, context, listDeadlineMs);
    super(executor, postgresDialect);
    this.names = names;
    this.context = context;
    this.executor = executor;
    // An idle connection dropped by a database restart must not crash the process; the pool replaces it.
    pool.on('error', () => undefined);
    // Nor one that is checked out: pg-pool removes its own listener while a client is lent out, and a client's
    // 'error' event without a listener is thrown. The query or transaction in flight fails on its own.
    pool.on('connect', (client) => client.on('error', () => undefined));
    pool.on('acquire', () => this.checkedOut++);
    pool.on('release', () => this.checkedOut--);
  }

  async migrate(): Promise<void> {
    await this.transaction(
      async () => undefined,
      async (client, executor) => {
        await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
        await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at text NOT NULL)');
        const { rows } = await client.query('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations');
        // A newer schema than this code knows (a newer release migrated first): fine, every step is additive.
        for (let version = Number(rows[0].v) + 1; version <= MIGRATIONS.length; version++) {
          await client.query(MIGRATIONS[version - 1]);
          if (version === NAME_KEY_MIGRATION) await recomputeNameKeys(executor);
          await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [version, new Date().toISOString()]);
        }
        await seedProtectedGroups(executor, postgresDialect);
      },
    );
    this.migrated = true;
  }

  /**
   * Runs `work` in one transaction, retried on serialization failures and deadlocks. `beforeCommit` runs after the
   * changes are written and before COMMIT (tests of the commit order hold a transaction there).
   */
  async transaction<T>(
    work: (tx: StoreTx) => Promise<T>,
    setup?: (client: PoolClient, executor: SqlExecutor) => Promise<void>,
    beforeCommit?: () => Promise<void>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let client: PoolClient;
      try {
        client = await this.pool.connect();
      } catch (error) {
        throw translate(error, this.context);
      }
      let broken = false;
      const executor = new PgExecutor(client, this.names, this.context);
      try {
        await client.query('BEGIN');
        if (setup) await setup(client, executor);
        const tx = new PgTx(executor, postgresDialect);
        const result = await work(tx);
        // Written without positions: sequenceChanges numbers them once committed (see change-log.ts).
        const changes = tx.changeBuffer.take();
        if (changes.length) await writeChanges(executor, changes);
        if (beforeCommit) await beforeCommit();
        await client.query('COMMIT');
        if (changes.length) this.changesCommitted.emit();
        return result;
      } catch (error) {
        // A connection that dropped or stopped answering cannot be trusted with a ROLLBACK: waiting on it would
        // add another query timeout to the client's wait. Destroying it ends the transaction on the server too.
        if (lostConnection(error)) broken = true;
        else await client.query('ROLLBACK').catch(() => (broken = true));
        const code = (error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code;
        // Serialization failures and deadlocks are the database asking for a retry.
        if ((code === '40001' || code === '40P01') && attempt < TRANSACTION_ATTEMPTS) continue;
        throw translate(error, this.context);
      } finally {
        client.release(broken);
      }
    }
  }

  async ping(): Promise<void> {
    await this.executor.rows('SELECT 1');
    if (this.full) await this.probeWrite();
  }

  /**
   * Numbers the committed changes that have no position yet, in the order they were written, in one transaction
   * under an advisory lock: each batch of positions commits whole and after every lower one. A reader that finds
   * the lock taken reads what is numbered; the holder's batch will come after it.
   *
   * Every replica's readers wait on the holder, so the holder's transaction may not sit idle: a replica frozen or
   * cut off between its UPDATE and its COMMIT (a paused VM, a network partition) would stall the feed of every
   * replica until the server noticed the dead connection (TCP keepalive: hours). The server ends such a
   * transaction after NUMBERING_IDLE_LIMIT_MS, releasing the lock (test/multiprocess/feed-faults.test.ts).
   */
  protected override async sequenceChanges(): Promise<void> {
    await this.transaction(
      async () => undefined,
      async (client) => {
        const { rows } = await client.query("SELECT set_config('idle_in_transaction_session_timeout', $2, true), pg_try_advisory_xact_lock($1) AS mine", [
          CHANGE_LOG_LOCK,
          String(NUMBERING_IDLE_LIMIT_MS),
        ]);
        if (rows[0].mine) await client.query(SEQUENCE_CHANGES);
      },
    );
  }

  /** After a disk-full error: a write that needs fresh pages, rolled back, tells whether there is room again. */
  private async probeWrite(): Promise<void> {
    try {
      await this.transaction(
        async () => {
          throw new ProbeDone();
        },
        async (_client, executor) => {
          await executor.run(
            "INSERT INTO state (key, value, updated_at) SELECT 'bridge.probe', string_agg(md5(random()::text), ''), '' FROM generate_series(1, 800) ON CONFLICT (key) DO NOTHING",
          );
        },
      );
    } catch (error) {
      if (!(error instanceof ProbeDone)) throw error;
    }
    this.full = false;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Ends the write probe's transaction with a rollback. */
class ProbeDone extends Error {}
