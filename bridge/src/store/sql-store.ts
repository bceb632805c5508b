/**
 * The store's SQL, shared by the SQLite and PostgreSQL adapters. Statements are written with `$n`
 * placeholders; each adapter supplies an executor (how to run them) and a dialect (how JSON and text
 * functions are spelled).
 *
 * The hot reads (a user by userName, externalId or id; a group by displayName or id; the groups a user is in)
 * are one statement each that returns what the response needs (a user with its groups as a JSON aggregate),
 * compiled once per filter shape, read as arrays rather than row objects, and without ORDER BY/LIMIT/OFFSET
 * where a unique key already pins the answer to at most one row.
 */
import type { Change, ChangeInput } from '../feed/types';
import { ChangeBuffer, CommitSignal, SqlChangeLog, importChanges } from './change-log';
import type { FilterValue } from '../scim/filter';
import { filterCost } from '../scim/filter-cost';
import { nameKey } from '../scim/names';
import { membersOf, withBoundedMembers } from './group-page';
import { OFFLOAD_COST } from './list-deadline';
import type { ResourceKind } from '../scim/schemas';
import { type GuardStorage, SqlGuardStorage } from './guard-sql';
import type { EndpointCommand, EndpointProgress, WebhookEndpoint, WebhookEndpointStore } from '../feed/endpoint-record';
import { type Dialect, TABLE, compileSort, filterPlan, filterShape } from './sql-filter';
import { webhookEndpointSql } from './webhook-sql';
import type {
  DirectoryCounts,
  EventQuery,
  GroupReadOptions,
  GroupRecord,
  GroupRef,
  ListQuery,
  MemberRef,
  Page,
  ProvisioningEvent,
  StoreTx,
  UserReadOptions,
  UserRecord,
} from './types';
import { StoreRefused } from './types';

export interface SqlExecutor {
  /** Rows as objects keyed by column name. */
  all<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Rows as arrays in the order of the select list: cheaper to build than objects, used by the hot reads. */
  rows(sql: string, params?: readonly unknown[]): Promise<unknown[][]>;
  /** Returns the number of rows changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  /**
   * Runs a list query's statements within the list deadline (list-deadline.ts), on the executor `work` is given;
   * `cost` is the filter's (filter-cost.ts). Executors without it (inside a transaction) run them as they are.
   */
  bounded?<T>(cost: number, work: (db: SqlExecutor) => Promise<T>): Promise<T>;
}

type Row = Record<string, unknown>;

// ---- text both adapters can store alike ----

const UNSTORABLE = 'Text may not contain NUL characters (U+0000) or unpaired UTF-16 surrogates';
/** An escaped NUL or lone surrogate in JSON.stringify's output (which escapes exactly those), not preceded by an odd run of backslashes. */
const UNSTORABLE_IN_JSON = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f])/i;

/**
 * PostgreSQL cannot hold NUL in text or jsonb, and both drivers turn a lone surrogate into U+FFFD on the way in,
 * while SQLite would keep either: refused here on both, so both stores answer the same (the edge refuses them first).
 */
export function assertStorable(params: readonly unknown[]): void {
  for (const value of params) {
    if (typeof value === 'string' && (value.includes('\0') || !(value as unknown as WellFormed).isWellFormed()))
      throw new StoreRefused(400, UNSTORABLE, 'invalidValue');
  }
}

/** ES2024 string methods (Node has them; the project's lib setting is ES2023). */
interface WellFormed {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/**
 * The largest resource document stored, as JSON (UTF-8 bytes). Real users and groups take 1–2 KiB; without a
 * bound, a client with the token could store 1 MiB users, and the pages identity providers list (100 at a time, up
 * to 1,000) would take the replica's memory: the 1M-request fuzz reached 1 GB with 256 KiB users. At 64 KiB a page
 * of 100 is at most 6.4 MB of rows.
 */
export const MAX_DOCUMENT_BYTES = 64 * 1024;

/** A document as stored: JSON text, refused when it holds text no adapter can store alike, or is too large. */
function docText(doc: unknown): string {
  const text = JSON.stringify(doc);
  if (UNSTORABLE_IN_JSON.test(text)) throw new StoreRefused(400, UNSTORABLE, 'invalidValue');
  // Characters first (cheap): a UTF-16 unit is at most 3 bytes of UTF-8.
  if (text.length * 3 > MAX_DOCUMENT_BYTES && Buffer.byteLength(text) > MAX_DOCUMENT_BYTES) {
    throw new StoreRefused(
      400,
      `The resource is larger than the bridge stores (${MAX_DOCUMENT_BYTES / 1024} KiB as JSON); send shorter attribute values`,
      'invalidValue',
    );
  }
  return text;
}

/** Event text comes partly from clients (a User-Agent, an error detail): made storable rather than refused. */
function eventText(value: string | undefined, max: number): string | null {
  if (value === undefined) return null;
  const cut = value.slice(0, max);
  return ((cut.includes('\0') ? cut.replace(/\0/g, '\uFFFD') : cut) as unknown as WellFormed).toWellFormed();
}

// ---- columns and rows ----

/** userName, externalId and active live in the document too; reading fewer columns is most of a look-up's cost. */
const USER_COLUMNS = 'users.id, users.active, users.doc, users.version, users.created, users.last_modified';
const GROUP_COLUMNS =
  'groups.id, groups.display_name, groups.external_id, groups.managed, groups.protected, groups.doc, groups.version, groups.created, groups.last_modified';

/** Chunks IN lists so a 50,000-member replace stays under every driver's parameter limit. */
const IN_CHUNK = 500;

function chunks<T>(items: readonly T[], size = IN_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function placeholders(from: number, count: number): string {
  return Array.from({ length: count }, (_, i) => `$${from + i}`).join(', ');
}

export function displayOf(doc: Record<string, unknown>): string | null {
  return typeof doc.displayName === 'string' && doc.displayName ? doc.displayName : null;
}

function parseJson<T>(value: unknown, empty: T): T {
  if (value === null || value === undefined) return empty;
  return typeof value === 'string' ? (JSON.parse(value) as T) : (value as T);
}

function toUser(row: readonly unknown[], withGroups: boolean): UserRecord {
  const doc = parseJson<Record<string, unknown>>(row[2], {});
  const user = {
    id: row[0] as string,
    userName: doc.userName as string,
    externalId: typeof doc.externalId === 'string' ? doc.externalId : undefined,
    active: Boolean(row[1]),
    doc,
    version: Number(row[3]),
    created: row[4] as string,
    lastModified: row[5] as string,
  };
  if (!withGroups) return user;
  const groups = parseJson<[string, string, string][]>(row[6], []);
  // By name, then id: the same order on both stores (an ORDER BY in the aggregate costs SQLite a sort per look-up).
  if (groups.length > 1) groups.sort((a, b) => (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { ...user, groups: groups.map(([value, display]) => ({ value, display })) };
}

function toGroup(row: readonly unknown[], withMembers: boolean): GroupRecord {
  const group = {
    id: row[0] as string,
    displayName: row[1] as string,
    externalId: (row[2] as string | null) ?? undefined,
    managed: Boolean(row[3]),
    protected: Boolean(row[4]),
    doc: parseJson<Record<string, unknown>>(row[5], {}),
    version: Number(row[6]),
    created: row[7] as string,
    lastModified: row[8] as string,
  };
  if (!withMembers) return group;
  return { ...group, members: membersOf(parseJson<[string, string | null][]>(row[9], [])) };
}

// ---- list plans, compiled once per shape ----

interface ListPlan {
  /** At most one row can match: one statement without ORDER BY, LIMIT or OFFSET answers items and total. */
  readonly unique: boolean;
  readonly pageSql: string;
  readonly countSql: string;
  readonly bind: (values: readonly FilterValue[]) => unknown[];
  /** The filter's cost (filter-cost.ts): decides where and under which deadline the statements run. */
  readonly cost: number;
}

const LIST_PLANS = new WeakMap<Dialect, Map<string, ListPlan>>();
const MAX_LIST_PLANS = 512;

function listPlan(kind: ResourceKind, query: ListQuery, dialect: Dialect, relations: boolean): { plan: ListPlan; values: FilterValue[] } {
  const shape = query.filter ? filterShape(query.filter) : { key: '', values: [] };
  const key = `${kind}|${shape.key}|${query.sortBy ?? ''}|${query.sortDescending ? 1 : 0}|${relations ? 1 : 0}`;
  let cache = LIST_PLANS.get(dialect);
  if (!cache) LIST_PLANS.set(dialect, (cache = new Map()));
  let plan = cache.get(key);
  if (!plan) {
    const table = TABLE[kind];
    const filter = query.filter ? filterPlan(kind, query.filter, dialect, shape.key) : { sql: '1=1', binders: [], unique: false };
    const columns =
      kind === 'User'
        ? USER_COLUMNS + (relations ? `, ${dialect.groupsOfUserJson} AS groups_json` : '')
        : GROUP_COLUMNS + (relations ? `, ${dialect.membersOfGroupJson} AS members_json` : '');
    const n = filter.binders.length;
    const binders = filter.binders;
    // A look-up by a unique key reads one row and needs no guard; every other list checks its deadline per row.
    const where = dialect.rowGuard && !filter.unique ? `${dialect.rowGuard} AND ${filter.sql}` : filter.sql;
    plan = {
      unique: filter.unique,
      pageSql: filter.unique
        ? `SELECT ${columns} FROM ${table} WHERE ${filter.sql}`
        : `SELECT ${columns} FROM ${table} WHERE ${where} ORDER BY ${compileSort(kind, query.sortBy, query.sortDescending, dialect)} LIMIT $${n + 1} OFFSET $${n + 2}`,
      countSql: `SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`,
      bind: binders.length === 1 ? (values) => [binders[0](values)] : (values) => binders.map((b) => b(values)),
      cost: query.filter ? filterCost(kind, query.filter) : 0,
    };
    if (cache.size < MAX_LIST_PLANS) cache.set(key, plan);
  }
  return { plan, values: shape.values };
}

// ---- the transaction-scoped operations ----

export class SqlStoreTx implements StoreTx {
  /** The changes this transaction's work appended; the adapter writes them just before COMMIT. */
  readonly changeBuffer = new ChangeBuffer();
  readonly guard: GuardStorage;

  constructor(
    protected readonly db: SqlExecutor,
    protected readonly dialect: Dialect,
  ) {
    this.guard = new SqlGuardStorage(db);
  }

  protected toUserRow(row: readonly unknown[]): UserRecord {
    return toUser(row, false);
  }

  protected toGroupRow(row: readonly unknown[]): GroupRecord {
    return toGroup(row, false);
  }

  private userSelect(withGroups: boolean): string {
    return withGroups ? `${USER_COLUMNS}, ${this.dialect.groupsOfUserJson} AS groups_json` : USER_COLUMNS;
  }

  async getUser(id: string, options?: UserReadOptions): Promise<UserRecord | undefined> {
    const withGroups = options?.withGroups === true;
    const [row] = await this.db.rows(`SELECT ${this.userSelect(withGroups)} FROM users WHERE users.id = $1`, [id]);
    return row ? toUser(row, withGroups) : undefined;
  }

  async findUserByUserName(userName: string): Promise<UserRecord | undefined> {
    const [row] = await this.db.rows(`SELECT ${USER_COLUMNS} FROM users WHERE users.user_name_lc = $1`, [nameKey(userName)]);
    return row ? toUser(row, false) : undefined;
  }

  async insertUser(user: UserRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO users (id, user_name, user_name_lc, external_id, display_name, active, doc, version, created, last_modified)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        user.id,
        user.userName,
        nameKey(user.userName),
        user.externalId ?? null,
        displayOf(user.doc),
        this.dialect.booleanParam(user.active),
        docText(user.doc),
        user.version,
        user.created,
        user.lastModified,
      ],
    );
  }

  async updateUser(user: UserRecord, expectedVersion: number): Promise<boolean> {
    const changed = await this.db.run(
      `UPDATE users SET user_name = $2, user_name_lc = $3, external_id = $4, display_name = $5, active = $6, doc = $7,
         version = $8, last_modified = $9 WHERE id = $1 AND version = $10`,
      [
        user.id,
        user.userName,
        nameKey(user.userName),
        user.externalId ?? null,
        displayOf(user.doc),
        this.dialect.booleanParam(user.active),
        docText(user.doc),
        user.version,
        user.lastModified,
        expectedVersion,
      ],
    );
    return changed === 1;
  }

  async deleteUser(id: string): Promise<boolean> {
    await this.db.run('DELETE FROM group_members WHERE user_id = $1', [id]);
    return (await this.db.run('DELETE FROM users WHERE id = $1', [id])) === 1;
  }

  queryUsers(query: ListQuery): Promise<Page<UserRecord>> {
    const withGroups = query.withGroups === true;
    return this.query('User', query, withGroups, (row) => toUser(row, withGroups));
  }

  async groupsOfUsers(userIds: readonly string[]): Promise<Map<string, GroupRef[]>> {
    const result = new Map<string, GroupRef[]>(userIds.map((id) => [id, []]));
    for (const ids of chunks(userIds)) {
      const rows = await this.db.rows(
        `SELECT gm.user_id, g.id, g.display_name FROM group_members gm JOIN groups g ON g.id = gm.group_id
         WHERE gm.user_id IN (${placeholders(1, ids.length)}) ORDER BY g.display_name_lc, g.id`,
        ids,
      );
      for (const row of rows) result.get(row[0] as string)?.push({ value: row[1] as string, display: row[2] as string });
    }
    return result;
  }

  async getGroup(id: string, options?: GroupReadOptions): Promise<GroupRecord | undefined> {
    const withMembers = options?.withMembers === true;
    const columns = withMembers ? `${GROUP_COLUMNS}, ${this.dialect.membersOfGroupJson} AS members_json` : GROUP_COLUMNS;
    const [row] = await this.db.rows(`SELECT ${columns} FROM groups WHERE groups.id = $1`, [id]);
    return row ? toGroup(row, withMembers) : undefined;
  }

  async findGroupByName(displayName: string): Promise<GroupRecord | undefined> {
    const [row] = await this.db.rows(`SELECT ${GROUP_COLUMNS} FROM groups WHERE groups.display_name_lc = $1`, [nameKey(displayName)]);
    return row ? toGroup(row, false) : undefined;
  }

  async insertGroup(group: GroupRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO groups (id, display_name, display_name_lc, external_id, managed, protected, doc, version, created, last_modified)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        group.id,
        group.displayName,
        nameKey(group.displayName),
        group.externalId ?? null,
        this.dialect.booleanParam(group.managed),
        this.dialect.booleanParam(group.protected),
        docText(group.doc),
        group.version,
        group.created,
        group.lastModified,
      ],
    );
  }

  async updateGroup(group: GroupRecord, expectedVersion: number): Promise<boolean> {
    const changed = await this.db.run(
      `UPDATE groups SET display_name = $2, display_name_lc = $3, external_id = $4, managed = $5, protected = $6, doc = $7,
         version = $8, last_modified = $9 WHERE id = $1 AND version = $10`,
      [
        group.id,
        group.displayName,
        nameKey(group.displayName),
        group.externalId ?? null,
        this.dialect.booleanParam(group.managed),
        this.dialect.booleanParam(group.protected),
        docText(group.doc),
        group.version,
        group.lastModified,
        expectedVersion,
      ],
    );
    return changed === 1;
  }

  async deleteGroup(id: string): Promise<boolean> {
    await this.db.run('DELETE FROM group_members WHERE group_id = $1', [id]);
    return (await this.db.run('DELETE FROM groups WHERE id = $1', [id])) === 1;
  }

  async queryGroups(query: ListQuery): Promise<Page<GroupRecord>> {
    // With members, a page is read without them and bounded by their number before they are read (group-page.ts).
    const page = await this.query('Group', query, false, (row) => toGroup(row, false));
    if (query.withMembers !== true) return page;
    // Up to MAX_PAGE_MEMBERS members: as costly as a filtered list, so under its deadline and off SQLite's event loop.
    const load = (db: SqlExecutor) => withBoundedMembers(db, this.dialect.membersOfGroupJson, page);
    return this.db.bounded ? this.db.bounded(OFFLOAD_COST, load) : load(this.db);
  }

  async membersOfGroups(groupIds: readonly string[]): Promise<Map<string, MemberRef[]>> {
    const result = new Map<string, MemberRef[]>(groupIds.map((id) => [id, []]));
    for (const ids of chunks(groupIds)) {
      const rows = await this.db.rows(
        `SELECT groups.id, ${this.dialect.membersOfGroupJson} FROM groups WHERE groups.id IN (${placeholders(1, ids.length)})`,
        ids,
      );
      for (const row of rows) result.set(row[0] as string, membersOf(parseJson<[string, string | null][]>(row[1], [])));
    }
    return result;
  }

  async addMembers(groupId: string, userIds: readonly string[]): Promise<string[]> {
    const added: string[] = [];
    for (const ids of chunks([...new Set(userIds)])) {
      const values = ids.map((_, i) => `($1, $${i + 2})`).join(', ');
      const rows = await this.db.rows(`INSERT INTO group_members (group_id, user_id) VALUES ${values} ON CONFLICT DO NOTHING RETURNING user_id`, [
        groupId,
        ...ids,
      ]);
      for (const row of rows) added.push(row[0] as string);
    }
    return added;
  }

  async removeMembers(groupId: string, userIds: readonly string[]): Promise<string[]> {
    const removed: string[] = [];
    for (const ids of chunks([...new Set(userIds)])) {
      const rows = await this.db.rows(`DELETE FROM group_members WHERE group_id = $1 AND user_id IN (${placeholders(2, ids.length)}) RETURNING user_id`, [
        groupId,
        ...ids,
      ]);
      for (const row of rows) removed.push(row[0] as string);
    }
    return removed;
  }

  async removeAllMembers(groupId: string): Promise<string[]> {
    return (await this.db.rows('DELETE FROM group_members WHERE group_id = $1 RETURNING user_id', [groupId])).map((row) => row[0] as string);
  }

  async existingUserIds(ids: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const part of chunks([...new Set(ids)])) {
      const rows = await this.db.rows(`SELECT id FROM users WHERE id IN (${placeholders(1, part.length)})`, part);
      for (const row of rows) found.add(row[0] as string);
    }
    return found;
  }

  recordEvent(event: ProvisioningEvent): Promise<void> {
    return recordEvent(this.db, event);
  }

  setState(key: string, value: string): Promise<void> {
    return setState(this.db, key, value);
  }

  async appendChanges(changes: readonly ChangeInput[]): Promise<void> {
    this.changeBuffer.append(changes);
  }

  importChanges(changes: readonly Change[]): Promise<void> {
    return importChanges(this.db, changes);
  }

  private async query<T>(kind: ResourceKind, query: ListQuery, relations: boolean, map: (row: unknown[]) => T): Promise<Page<T>> {
    const { plan, values } = listPlan(kind, query, this.dialect, relations);
    const params = plan.bind(values);
    if (plan.unique) {
      // At most one row: the same statement answers the total and the page.
      const rows = await this.db.rows(plan.pageSql, params);
      return { totalResults: rows.length, items: query.startIndex === 1 && query.count > 0 ? rows.map(map) : [] };
    }
    const page = async (db: SqlExecutor): Promise<Page<T>> => {
      const countTotal = async () => {
        const [row] = await db.rows(plan.countSql, params);
        return Number(row[0]);
      };
      if (query.count === 0) return { totalResults: await countTotal(), items: [] };
      const rows = await db.rows(plan.pageSql, [...params, query.count, query.startIndex - 1]);
      // The first page that is not full tells the total without a second query.
      const total = query.startIndex === 1 && rows.length < query.count ? rows.length : await countTotal();
      return { totalResults: total, items: rows.map(map) };
    };
    return this.db.bounded ? this.db.bounded(plan.cost, page) : page(this.db);
  }
}

// ---- outside transactions, shared by both adapters ----

/**
 * What both adapters do alike outside transactions, on their outside executor (`db`): counts, events, leases
 * and state. Each adapter adds migrate, transaction, ping and close.
 */
export abstract class SqlStore extends SqlStoreTx {
  private readonly changeLog = new SqlChangeLog(this.db);
  /** Told after a transaction that appended changes commits (the adapters emit it). */
  protected readonly changesCommitted = new CommitSignal();

  abstract transaction<T>(work: (tx: StoreTx) => Promise<T>): Promise<T>;

  /** Outside a transaction: appended in one of its own. */
  override appendChanges(changes: readonly ChangeInput[]): Promise<void> {
    return this.transaction((tx) => tx.appendChanges(changes));
  }

  /** Gives committed changes their positions where the adapter does that after the commit (PostgreSQL). */
  protected async sequenceChanges(): Promise<void> {}

  async readChanges(after: number, limit: number, directory?: string): Promise<Change[]> {
    await this.sequenceChanges();
    return this.changeLog.readChanges(after, limit, directory);
  }

  async headPosition(directory?: string): Promise<number> {
    await this.sequenceChanges();
    return this.changeLog.headPosition(directory);
  }

  oldestPosition(directory?: string): Promise<number> {
    return this.changeLog.oldestPosition(directory);
  }

  positionAt(at: string, directory?: string): Promise<number | undefined> {
    return this.changeLog.positionAt(at, directory);
  }

  pruneChanges(olderThan: string, keepFrom: number): Promise<number> {
    return this.changeLog.pruneChanges(olderThan, keepFrom);
  }

  onChangesCommitted(listener: () => void): () => void {
    return this.changesCommitted.subscribe(listener);
  }

  counts(): Promise<DirectoryCounts> {
    return directoryCounts(this.db, this.dialect);
  }

  listEvents(query: EventQuery): Promise<ProvisioningEvent[]> {
    return listEvents(this.db, query, this.dialect);
  }

  pruneEvents(olderThan: string): Promise<number> {
    return this.db.run('DELETE FROM events WHERE at < $1', [olderThan]);
  }

  tryAcquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    return tryAcquireLease(this.db, this.dialect, name, holder, ttlMs);
  }

  renewLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    return renewLease(this.db, this.dialect, name, holder, ttlMs);
  }

  releaseLease(name: string, holder: string): Promise<boolean> {
    return releaseLease(this.db, name, holder);
  }

  getState(key: string): Promise<string | undefined> {
    return getState(this.db, key);
  }

  async listState(): Promise<Map<string, string>> {
    return new Map((await this.db.rows('SELECT key, value FROM state ORDER BY key')).map((row) => [row[0] as string, row[1] as string]));
  }

  // ---- webhook endpoints (webhook-sql.ts) ----
  private webhookSql?: WebhookEndpointStore;
  private get webhooks(): WebhookEndpointStore {
    return (this.webhookSql ??= webhookEndpointSql(this.db, this.dialect));
  }
  listWebhookEndpoints(): Promise<WebhookEndpoint[]> {
    return this.webhooks.listWebhookEndpoints();
  }
  getWebhookEndpoint(id: string): Promise<WebhookEndpoint | undefined> {
    return this.webhooks.getWebhookEndpoint(id);
  }
  insertWebhookEndpoint(endpoint: Parameters<WebhookEndpointStore['insertWebhookEndpoint']>[0]): Promise<void> {
    return this.webhooks.insertWebhookEndpoint(endpoint);
  }
  upsertDeclaredWebhookEndpoint(endpoint: Parameters<WebhookEndpointStore['upsertDeclaredWebhookEndpoint']>[0]): Promise<void> {
    return this.webhooks.upsertDeclaredWebhookEndpoint(endpoint);
  }
  saveWebhookProgress(id: string, revision: number, progress: EndpointProgress, lease: { name: string; holder: string }): Promise<boolean> {
    return this.webhooks.saveWebhookProgress(id, revision, progress, lease);
  }
  commandWebhookEndpoint(id: string, command: EndpointCommand): Promise<boolean> {
    return this.webhooks.commandWebhookEndpoint(id, command);
  }
  deleteWebhookEndpoint(id: string): Promise<boolean> {
    return this.webhooks.deleteWebhookEndpoint(id);
  }
}

export async function recordEvent(db: SqlExecutor, event: ProvisioningEvent): Promise<void> {
  await db.run(
    `INSERT INTO events (at, actor, action, resource_type, resource_id, resource_name, outcome, status, request_id, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      event.at,
      eventText(event.actor, 200),
      eventText(event.action, 100),
      event.resourceType ?? null,
      eventText(event.resourceId, 256),
      eventText(event.resourceName, 256),
      event.outcome,
      event.status,
      eventText(event.requestId, 128),
      eventText(event.detail, 1000),
    ],
  );
}

export async function directoryCounts(db: SqlExecutor, dialect: Dialect): Promise<DirectoryCounts> {
  const yes = dialect.booleanParam(true);
  const [users] = await db.all(
    `SELECT COALESCE(SUM(CASE WHEN active = $1 THEN 1 ELSE 0 END), 0) AS active, COALESCE(SUM(CASE WHEN active = $1 THEN 0 ELSE 1 END), 0) AS suspended FROM users`,
    [yes],
  );
  const [groups] = await db.all(
    `SELECT COALESCE(SUM(CASE WHEN protected = $1 THEN 1 ELSE 0 END), 0) AS protected,
            COALESCE(SUM(CASE WHEN protected <> $1 AND managed = $1 THEN 1 ELSE 0 END), 0) AS managed,
            COALESCE(SUM(CASE WHEN protected <> $1 AND managed <> $1 THEN 1 ELSE 0 END), 0) AS other FROM groups`,
    [yes],
  );
  return {
    usersActive: Number(users.active),
    usersSuspended: Number(users.suspended),
    groupsManaged: Number(groups.managed),
    groupsProtected: Number(groups.protected),
    groupsOther: Number(groups.other),
  };
}

/**
 * A search of the events reads the newest this many (by id, through the primary key): a substring search cannot use
 * an index, and over a million rows it took 8 s and 1 GB while the status page repeated it every 15 s.
 */
export const EVENT_SEARCH_WINDOW = 50_000;

export async function listEvents(db: SqlExecutor, query: EventQuery, dialect: Dialect): Promise<ProvisioningEvent[]> {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (query.search) conditions.push(`id > (SELECT COALESCE(MAX(id), 0) FROM events) - ${EVENT_SEARCH_WINDOW}`);
  if (query.before !== undefined) {
    params.push(query.before);
    conditions.push(`id < $${params.length}`);
  }
  if (query.outcome) {
    params.push(query.outcome);
    conditions.push(`outcome = $${params.length}`);
  }
  if (query.search) {
    params.push(`%${query.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    // Folded alike on both sides, so "élodie" finds "Élodie" on SQLite too (see Dialect.fold).
    const p = dialect.fold(`$${params.length}`);
    const like = (column: string) => `${dialect.fold(column)} LIKE ${p} ESCAPE '\\'`;
    conditions.push(`(${like('action')} OR ${like("COALESCE(resource_name, '')")} OR ${like("COALESCE(detail, '')")} OR ${like('actor')})`);
  }
  params.push(query.limit);
  const rows = await db.all<Row>(
    `SELECT id, at, actor, action, resource_type, resource_id, resource_name, outcome, status, request_id, detail FROM events
     ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map((row) => ({
    id: Number(row.id),
    at: row.at as string,
    actor: row.actor as string,
    action: row.action as string,
    resourceType: (row.resource_type as 'User' | 'Group' | null) ?? undefined,
    resourceId: (row.resource_id as string | null) ?? undefined,
    resourceName: (row.resource_name as string | null) ?? undefined,
    outcome: row.outcome as ProvisioningEvent['outcome'],
    status: Number(row.status),
    requestId: (row.request_id as string | null) ?? undefined,
    detail: (row.detail as string | null) ?? undefined,
  }));
}

// ---- leases and shared state (e.g. one replica runs the Google sync; its checkpoints) ----

const MAX_NAME = 200;
const MAX_STATE_BYTES = 1024 * 1024;

function checkName(what: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAME) throw new RangeError(`${what} must be 1 to ${MAX_NAME} characters`);
}

function checkTtl(ttlMs: number): number {
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) throw new RangeError(`a lease's ttlMs must be a positive whole number of milliseconds (got ${ttlMs})`);
  return ttlMs;
}

export async function tryAcquireLease(db: SqlExecutor, dialect: Dialect, name: string, holder: string, ttlMs: number): Promise<boolean> {
  checkName('a lease name', name);
  checkName('a lease holder', holder);
  // One statement: the row lock taken by the upsert makes concurrent takers queue, and the loser sees the winner's row.
  const changed = await db.run(
    `INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, ${dialect.nowMs} + $3)
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
     WHERE leases.holder = excluded.holder OR leases.expires_at <= ${dialect.nowMs}`,
    [name, holder, checkTtl(ttlMs)],
  );
  return changed === 1;
}

export async function renewLease(db: SqlExecutor, dialect: Dialect, name: string, holder: string, ttlMs: number): Promise<boolean> {
  checkName('a lease name', name);
  checkName('a lease holder', holder);
  // Still ours if nobody took it, even past its expiry: no one else held it in between.
  return (await db.run(`UPDATE leases SET expires_at = ${dialect.nowMs} + $3 WHERE name = $1 AND holder = $2`, [name, holder, checkTtl(ttlMs)])) === 1;
}

export async function releaseLease(db: SqlExecutor, name: string, holder: string): Promise<boolean> {
  checkName('a lease name', name);
  checkName('a lease holder', holder);
  return (await db.run('DELETE FROM leases WHERE name = $1 AND holder = $2', [name, holder])) === 1;
}

export async function getState(db: SqlExecutor, key: string): Promise<string | undefined> {
  checkName('a state key', key);
  const [row] = await db.rows('SELECT value FROM state WHERE key = $1', [key]);
  return row ? (row[0] as string) : undefined;
}

export async function setState(db: SqlExecutor, key: string, value: string): Promise<void> {
  checkName('a state key', key);
  if (typeof value !== 'string' || Buffer.byteLength(value) > MAX_STATE_BYTES) throw new RangeError('a state value must be a string of at most 1 MiB');
  assertStorable([key, value]);
  await db.run(
    `INSERT INTO state (key, value, updated_at) VALUES ($1, $2, $3)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    [key, value, new Date().toISOString()],
  );
}
