/**
 * The store's SQL, shared by the SQLite and PostgreSQL adapters. Statements are written with `$n`
 * placeholders; each adapter supplies an executor (how to run them) and a dialect (how JSON and text
 * functions are spelled).
 */
import type { ResourceKind } from '../scim/schemas';
import { type Dialect, TABLE, compileFilter, compileSort } from './sql-filter';
import type {
  DirectoryCounts,
  EventQuery,
  GroupRecord,
  GroupRef,
  ListQuery,
  MemberRef,
  Page,
  ProvisioningEvent,
  StoreTx,
  UserRecord,
} from './types';

export interface SqlExecutor {
  all<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Returns the number of rows changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

type Row = Record<string, unknown>;

// userName, externalId and active live in the document too; reading fewer columns is most of a lookup's cost.
const USER_COLUMNS = 'users.id, users.active, users.doc, users.version, users.created, users.last_modified';
const GROUP_COLUMNS = 'groups.id, groups.display_name, groups.external_id, groups.managed, groups.protected, groups.doc, groups.version, groups.created, groups.last_modified';

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

export class SqlStoreTx implements StoreTx {
  constructor(
    protected readonly db: SqlExecutor,
    protected readonly dialect: Dialect,
  ) {}

  private parseDoc(value: unknown): Record<string, unknown> {
    return typeof value === 'string' ? (JSON.parse(value) as Record<string, unknown>) : ((value ?? {}) as Record<string, unknown>);
  }

  private toUser(row: Row): UserRecord {
    const doc = this.parseDoc(row.doc);
    return {
      id: row.id as string,
      userName: doc.userName as string,
      externalId: typeof doc.externalId === 'string' ? doc.externalId : undefined,
      active: Boolean(row.active),
      doc,
      version: Number(row.version),
      created: row.created as string,
      lastModified: row.last_modified as string,
    };
  }

  private toGroup(row: Row): GroupRecord {
    return {
      id: row.id as string,
      displayName: row.display_name as string,
      externalId: (row.external_id as string | null) ?? undefined,
      managed: Boolean(row.managed),
      protected: Boolean(row.protected),
      doc: this.parseDoc(row.doc),
      version: Number(row.version),
      created: row.created as string,
      lastModified: row.last_modified as string,
    };
  }

  async getUser(id: string): Promise<UserRecord | undefined> {
    const [row] = await this.db.all(`SELECT ${USER_COLUMNS} FROM users WHERE users.id = $1`, [id]);
    return row ? this.toUser(row) : undefined;
  }

  async findUserByUserName(userName: string): Promise<UserRecord | undefined> {
    const [row] = await this.db.all(`SELECT ${USER_COLUMNS} FROM users WHERE users.user_name_lc = $1`, [userName.toLowerCase()]);
    return row ? this.toUser(row) : undefined;
  }

  async insertUser(user: UserRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO users (id, user_name, user_name_lc, external_id, display_name, active, doc, version, created, last_modified)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [user.id, user.userName, user.userName.toLowerCase(), user.externalId ?? null, displayOf(user.doc), this.dialect.booleanParam(user.active),
        JSON.stringify(user.doc), user.version, user.created, user.lastModified],
    );
  }

  async updateUser(user: UserRecord, expectedVersion: number): Promise<boolean> {
    const changed = await this.db.run(
      `UPDATE users SET user_name = $2, user_name_lc = $3, external_id = $4, display_name = $5, active = $6, doc = $7,
         version = $8, last_modified = $9 WHERE id = $1 AND version = $10`,
      [user.id, user.userName, user.userName.toLowerCase(), user.externalId ?? null, displayOf(user.doc), this.dialect.booleanParam(user.active),
        JSON.stringify(user.doc), user.version, user.lastModified, expectedVersion],
    );
    return changed === 1;
  }

  async deleteUser(id: string): Promise<boolean> {
    await this.db.run('DELETE FROM group_members WHERE user_id = $1', [id]);
    return (await this.db.run('DELETE FROM users WHERE id = $1', [id])) === 1;
  }

  queryUsers(query: ListQuery): Promise<Page<UserRecord>> {
    return this.query('User', USER_COLUMNS, query, (row) => this.toUser(row));
  }

  async groupsOfUsers(userIds: readonly string[]): Promise<Map<string, GroupRef[]>> {
    const result = new Map<string, GroupRef[]>(userIds.map((id) => [id, []]));
    for (const ids of chunks(userIds)) {
      const rows = await this.db.all(
        `SELECT gm.user_id, g.id, g.display_name FROM group_members gm JOIN groups g ON g.id = gm.group_id
         WHERE gm.user_id IN (${placeholders(1, ids.length)}) ORDER BY g.display_name_lc`,
        ids,
      );
      for (const row of rows) result.get(row.user_id as string)?.push({ value: row.id as string, display: row.display_name as string });
    }
    return result;
  }

  async getGroup(id: string): Promise<GroupRecord | undefined> {
    const [row] = await this.db.all(`SELECT ${GROUP_COLUMNS} FROM groups WHERE groups.id = $1`, [id]);
    return row ? this.toGroup(row) : undefined;
  }

  async findGroupByName(displayName: string): Promise<GroupRecord | undefined> {
    const [row] = await this.db.all(`SELECT ${GROUP_COLUMNS} FROM groups WHERE groups.display_name_lc = $1`, [displayName.toLowerCase()]);
    return row ? this.toGroup(row) : undefined;
  }

  async insertGroup(group: GroupRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO groups (id, display_name, display_name_lc, external_id, managed, protected, doc, version, created, last_modified)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [group.id, group.displayName, group.displayName.toLowerCase(), group.externalId ?? null, this.dialect.booleanParam(group.managed),
        this.dialect.booleanParam(group.protected), JSON.stringify(group.doc), group.version, group.created, group.lastModified],
    );
  }

  async updateGroup(group: GroupRecord, expectedVersion: number): Promise<boolean> {
    const changed = await this.db.run(
      `UPDATE groups SET display_name = $2, display_name_lc = $3, external_id = $4, managed = $5, protected = $6, doc = $7,
         version = $8, last_modified = $9 WHERE id = $1 AND version = $10`,
      [group.id, group.displayName, group.displayName.toLowerCase(), group.externalId ?? null, this.dialect.booleanParam(group.managed),
        this.dialect.booleanParam(group.protected), JSON.stringify(group.doc), group.version, group.lastModified, expectedVersion],
    );
    return changed === 1;
  }

  async deleteGroup(id: string): Promise<boolean> {
    await this.db.run('DELETE FROM group_members WHERE group_id = $1', [id]);
    return (await this.db.run('DELETE FROM groups WHERE id = $1', [id])) === 1;
  }

  queryGroups(query: ListQuery): Promise<Page<GroupRecord>> {
    return this.query('Group', GROUP_COLUMNS, query, (row) => this.toGroup(row));
  }

  async membersOfGroups(groupIds: readonly string[]): Promise<Map<string, MemberRef[]>> {
    const result = new Map<string, MemberRef[]>(groupIds.map((id) => [id, []]));
    for (const ids of chunks(groupIds)) {
      const rows = await this.db.all(
        `SELECT gm.group_id, u.id, COALESCE(u.display_name, u.user_name) AS display FROM group_members gm
         JOIN users u ON u.id = gm.user_id WHERE gm.group_id IN (${placeholders(1, ids.length)}) ORDER BY gm.group_id, u.id`,
        ids,
      );
      for (const row of rows) result.get(row.group_id as string)?.push({ value: row.id as string, display: row.display as string });
    }
    return result;
  }

  async addMembers(groupId: string, userIds: readonly string[]): Promise<number> {
    let added = 0;
    for (const ids of chunks([...new Set(userIds)])) {
      const values = ids.map((_, i) => `($1, $${i + 2})`).join(', ');
      added += await this.db.run(`INSERT INTO group_members (group_id, user_id) VALUES ${values} ON CONFLICT DO NOTHING`, [groupId, ...ids]);
    }
    return added;
  }

  async removeMembers(groupId: string, userIds: readonly string[]): Promise<number> {
    let removed = 0;
    for (const ids of chunks([...new Set(userIds)])) {
      removed += await this.db.run(`DELETE FROM group_members WHERE group_id = $1 AND user_id IN (${placeholders(2, ids.length)})`, [groupId, ...ids]);
    }
    return removed;
  }

  removeAllMembers(groupId: string): Promise<number> {
    return this.db.run('DELETE FROM group_members WHERE group_id = $1', [groupId]);
  }

  async existingUserIds(ids: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const part of chunks([...new Set(ids)])) {
      const rows = await this.db.all(`SELECT id FROM users WHERE id IN (${placeholders(1, part.length)})`, part);
      for (const row of rows) found.add(row.id as string);
    }
    return found;
  }

  async recordEvent(event: ProvisioningEvent): Promise<void> {
    await this.db.run(
      `INSERT INTO events (at, actor, action, resource_type, resource_id, resource_name, outcome, status, request_id, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [event.at, event.actor.slice(0, 200), event.action, event.resourceType ?? null, event.resourceId ?? null,
        event.resourceName?.slice(0, 256) ?? null, event.outcome, event.status, event.requestId ?? null, event.detail?.slice(0, 1000) ?? null],
    );
  }

  private async query<T>(kind: ResourceKind, columns: string, query: ListQuery, map: (row: Row) => T): Promise<Page<T>> {
    const table = TABLE[kind];
    const where = compileFilter(kind, query.filter, this.dialect);
    const countTotal = async () => {
      const [row] = await this.db.all(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where.sql}`, where.params);
      return Number(row.n);
    };
    if (query.count === 0) return { totalResults: await countTotal(), items: [] };
    const order = compileSort(kind, query.sortBy, query.sortDescending, this.dialect);
    const n = where.params.length;
    const rows = await this.db.all(
      `SELECT ${columns} FROM ${table} WHERE ${where.sql} ORDER BY ${order} LIMIT $${n + 1} OFFSET $${n + 2}`,
      [...where.params, query.count, query.startIndex - 1],
    );
    // The first page that is not full tells the total without a second query (the common userName lookup).
    const total = query.startIndex === 1 && rows.length < query.count ? rows.length : await countTotal();
    return { totalResults: total, items: rows.map(map) };
  }
}

/** Read-only queries outside transactions, shared by both adapters. */
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

export async function listEvents(db: SqlExecutor, query: EventQuery): Promise<ProvisioningEvent[]> {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (query.before !== undefined) {
    params.push(query.before);
    conditions.push(`id < $${params.length}`);
  }
  if (query.outcome) {
    params.push(query.outcome);
    conditions.push(`outcome = $${params.length}`);
  }
  if (query.search) {
    params.push(`%${query.search.toLowerCase().replace(/[\\%_]/g, (c) => '\\' + c)}%`);
    const p = `$${params.length}`;
    conditions.push(`(lower(action) LIKE ${p} ESCAPE '\\' OR lower(COALESCE(resource_name, '')) LIKE ${p} ESCAPE '\\' OR lower(COALESCE(detail, '')) LIKE ${p} ESCAPE '\\' OR lower(actor) LIKE ${p} ESCAPE '\\')`);
  }
  params.push(query.limit);
  const rows = await db.all(
    `SELECT id, at, actor, action, resource_type, resource_id, resource_name, outcome, status, request_id, detail FROM events
     ${conditions.length ? 'WHERE ' + conditions.join(' AND ') : ''} ORDER BY id DESC LIMIT $${params.length}`,
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

/** Creates the protected groups a store must always hold (part of every migration, idempotent). */
export async function seedProtectedGroups(db: SqlExecutor, dialect: Dialect): Promise<void> {
  const now = new Date().toISOString();
  for (const group of PROTECTED_GROUPS) {
    await db.run(
      `INSERT INTO groups (id, display_name, display_name_lc, managed, protected, doc, version, created, last_modified)
       VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) ON CONFLICT DO NOTHING`,
      [group.id, group.displayName, group.displayName.toLowerCase(), dialect.booleanParam(false), dialect.booleanParam(true),
        JSON.stringify({ displayName: group.displayName }), now],
    );
  }
}

/** Groups that hold account-wide powers: present in every store, never changed over SCIM. */
export const PROTECTED_GROUPS = [
  { id: 'owners', displayName: 'Owners', description: 'Full control of the account' },
  { id: 'administrators', displayName: 'Administrators', description: 'Manage people, groups and settings' },
  { id: 'recovery', displayName: 'Recovery', description: 'Recover accounts of people who lost access' },
  { id: 'group-managers', displayName: 'Group Managers', description: 'Manage all groups' },
] as const;
