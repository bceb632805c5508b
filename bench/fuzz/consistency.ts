/**
 * After a run: is the store consistent? Over HTTP, while the bridge still runs: every user and group listed and
 * readable and well-formed, memberships point at users that exist (both ways round), `/api/status` counts what
 * listing finds, and the lanes' models agree with the store. In the database itself, after the bridge stopped:
 * every row readable and coherent with its columns, no dangling membership, and the events table agrees with the
 * writes the bridge acknowledged (every acknowledged create is present or has a recorded delete, and each count
 * of success events equals the count of 2xx answers).
 */
import { nameKey } from '../../bridge/src/scim/names';
import { DatabaseSync } from 'node:sqlite';
import { Client } from 'pg';
import type { Acknowledged, LaneModel } from './model';

export interface ConsistencyReport {
  readonly users: number;
  readonly groups: number;
  readonly memberships: number;
  readonly events: number;
  readonly eventsByAction: Record<string, number>;
  /** Resources the store holds that no acknowledged answer explains (allowed up to the writes that got no answer). */
  readonly unexplained: number;
  readonly uncertain: number;
  readonly problems: string[];
}

type Json = any;

const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const PROTECTED = new Set(['owners', 'administrators', 'recovery', 'group-managers']);
const storable = (s: string) => !s.includes('\u0000') && (s as string & { isWellFormed(): boolean }).isWellFormed();

async function get(base: string, token: string, path: string): Promise<{ status: number; body: Json; etag: string | null }> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, etag: res.headers.get('etag') };
}

async function listAll(base: string, token: string, resource: 'Users' | 'Groups', problems: string[]): Promise<Json[]> {
  const out: Json[] = [];
  let total: number | undefined;
  for (let start = 1; ; start += 1000) {
    const { status, body } = await get(base, token, `/scim/v2/${resource}?startIndex=${start}&count=1000`);
    if (status !== 200 || body?.schemas?.[0] !== LIST) {
      problems.push(`listing ${resource} from ${start} answered ${status}`);
      return out;
    }
    if (total !== undefined && body.totalResults !== total)
      problems.push(`${resource} totalResults moved from ${total} to ${body.totalResults} while nothing wrote`);
    total = body.totalResults;
    out.push(...body.Resources);
    if (body.Resources.length < 1000 || out.length >= total!) break;
  }
  if (out.length !== total) problems.push(`${resource}: listed ${out.length}, totalResults ${total}`);
  const ids = new Set(out.map((r) => r.id));
  if (ids.size !== out.length) problems.push(`${resource}: ${out.length - ids.size} listed twice`);
  return out;
}

function wellFormedUser(u: Json): string | undefined {
  if (typeof u.id !== 'string' || !u.id) return 'no id';
  if (!Array.isArray(u.schemas) || !u.schemas.includes('urn:ietf:params:scim:schemas:core:2.0:User')) return 'no core schema';
  if (typeof u.userName !== 'string' || !u.userName.trim()) return 'no userName';
  if (typeof u.active !== 'boolean') return 'active is not a boolean';
  if (u.meta?.resourceType !== 'User' || typeof u.meta.location !== 'string' || !u.meta.location.endsWith(`/Users/${u.id}`)) return 'meta is wrong';
  if (Number.isNaN(Date.parse(u.meta.created)) || Number.isNaN(Date.parse(u.meta.lastModified))) return 'meta dates unreadable';
  if (typeof u.meta.version !== 'string') return 'no meta.version';
  if (u.password !== undefined) return 'a password is returned';
  if (!Array.isArray(u.groups ?? [])) return 'groups is not a list';
  return undefined;
}

function wellFormedGroup(g: Json): string | undefined {
  if (typeof g.id !== 'string' || !g.id) return 'no id';
  if (!Array.isArray(g.schemas) || !g.schemas.includes('urn:ietf:params:scim:schemas:core:2.0:Group')) return 'no core schema';
  if (typeof g.displayName !== 'string' || !g.displayName.trim()) return 'no displayName';
  if (g.meta?.resourceType !== 'Group' || typeof g.meta.location !== 'string') return 'meta is wrong';
  if (!Array.isArray(g.members ?? [])) return 'members is not a list';
  return undefined;
}

export interface HttpCheckInput {
  readonly url: string;
  readonly token: string;
  readonly models: readonly LaneModel[];
}

export interface HttpState {
  readonly users: Map<string, Json>;
  readonly groups: Map<string, Json>;
  readonly memberships: number;
}

/** Checks through the bridge's own API. */
export async function checkOverHttp(input: HttpCheckInput, problems: string[]): Promise<HttpState & { unexplained: number; uncertain: number }> {
  const users = await listAll(input.url, input.token, 'Users', problems);
  const groups = await listAll(input.url, input.token, 'Groups', problems);
  const userById = new Map(users.map((u) => [u.id, u]));
  const groupById = new Map(groups.map((g) => [g.id, g]));
  const note = (what: string) => problems.length < 500 && problems.push(what);

  for (const u of users) {
    const wrong = wellFormedUser(u);
    if (wrong) note(`user ${u.id}: ${wrong}`);
  }
  let memberships = 0;
  const membersOf = new Map<string, Set<string>>();
  for (const g of groups) {
    const wrong = wellFormedGroup(g);
    if (wrong) note(`group ${g.id}: ${wrong}`);
    const members = new Set<string>();
    for (const m of g.members ?? []) {
      memberships++;
      if (!userById.has(m.value)) note(`group ${g.id} has member ${m.value}, which is not a user`);
      if (members.has(m.value)) note(`group ${g.id} lists member ${m.value} twice`);
      members.add(m.value);
    }
    membersOf.set(g.id, members);
  }
  // Both ways round: a user's groups are exactly the groups that list it.
  for (const u of users) {
    for (const ref of u.groups ?? []) {
      if (!membersOf.get(ref.value)?.has(u.id)) note(`user ${u.id} lists group ${ref.value}, which does not list it`);
      if (groupById.get(ref.value) && ref.display !== groupById.get(ref.value).displayName)
        note(`user ${u.id} shows group ${ref.value} as ${JSON.stringify(ref.display)}`);
    }
  }
  for (const [groupId, members] of membersOf) {
    for (const userId of members) {
      const u = userById.get(userId);
      if (u && !(u.groups ?? []).some((ref: Json) => ref.value === groupId)) note(`group ${groupId} lists ${userId}, whose groups lack it`);
    }
  }
  // Every resource readable by id, as listed (a sample when there are many).
  const sample = (items: Json[]) => (items.length <= 2000 ? items : items.filter((_, i) => i % Math.ceil(items.length / 2000) === 0));
  for (const u of sample(users)) {
    const one = await get(input.url, input.token, `/scim/v2/Users/${encodeURIComponent(u.id)}`);
    if (one.status !== 200) note(`user ${u.id} is listed but GET answers ${one.status}`);
    else if (one.body.userName !== u.userName || one.body.active !== u.active || one.etag !== u.meta.version)
      note(`user ${u.id} reads differently by id than in the list`);
  }
  for (const g of sample(groups)) {
    const one = await get(input.url, input.token, `/scim/v2/Groups/${encodeURIComponent(g.id)}`);
    if (one.status !== 200) note(`group ${g.id} is listed but GET answers ${one.status}`);
    else if (one.body.displayName !== g.displayName || (one.body.members ?? []).length !== (g.members ?? []).length)
      note(`group ${g.id} reads differently by id than in the list`);
  }

  // /api/status counts what listing finds.
  const status = await get(input.url, input.token, '/api/status');
  const counts = status.body?.counts;
  if (!counts) note(`/api/status has no counts (${status.status})`);
  else {
    const active = users.filter((u) => u.active).length;
    if (counts.usersActive !== active) note(`/api/status says ${counts.usersActive} active users, listing finds ${active}`);
    if (counts.usersSuspended !== users.length - active)
      note(`/api/status says ${counts.usersSuspended} suspended users, listing finds ${users.length - active}`);
    const protectedCount = groups.filter((g) => PROTECTED.has(g.id)).length;
    if (counts.groupsProtected !== protectedCount) note(`/api/status says ${counts.groupsProtected} protected groups, listing finds ${protectedCount}`);
    if (counts.groupsManaged + counts.groupsProtected + counts.groupsOther !== groups.length)
      note(`/api/status counts ${counts.groupsManaged + counts.groupsProtected + counts.groupsOther} groups, listing finds ${groups.length}`);
  }

  // The lanes' models against the store.
  let uncertain = 0;
  const known = new Set<string>();
  for (const model of input.models) {
    uncertain += model.uncertain.size + model.uncertainNames.size + model.uncertainCreates + model.staleGroups.size;
    for (const [id, mu] of model.users) {
      known.add(id);
      const u = userById.get(id);
      if (!u) {
        if (!model.uncertain.has(id)) note(`user ${id} (${JSON.stringify(mu.userName)}) was acknowledged and is gone`);
        continue;
      }
      if (model.uncertain.has(id)) continue;
      if (u.userName !== mu.userName) note(`user ${id}: userName ${JSON.stringify(u.userName)}, the model says ${JSON.stringify(mu.userName)}`);
      if (u.active !== mu.active) note(`user ${id}: active ${u.active}, the model says ${mu.active}`);
      if ((u.externalId ?? undefined) !== mu.externalId)
        note(`user ${id}: externalId ${JSON.stringify(u.externalId)}, the model says ${JSON.stringify(mu.externalId)}`);
      for (const [path, value] of Object.entries(mu.strings)) {
        const got = path.split('.').reduce<Json>((at, key) => at?.[key], u);
        if (got !== value) note(`user ${id}: ${path} is ${JSON.stringify(got)}, the model says ${JSON.stringify(value)}`);
      }
    }
    for (const id of model.deletedUsers) if (userById.has(id) && !model.uncertain.has(id)) note(`user ${id} was deleted (204) and is still there`);
    for (const [id, mg] of model.groups) {
      known.add(id);
      const g = groupById.get(id);
      if (!g) {
        if (!model.uncertain.has(id)) note(`group ${id} (${JSON.stringify(mg.displayName)}) was acknowledged and is gone`);
        continue;
      }
      if (model.uncertain.has(id) || model.staleGroups.has(id)) continue;
      if (g.displayName !== mg.displayName) note(`group ${id}: displayName ${JSON.stringify(g.displayName)}, the model says ${JSON.stringify(mg.displayName)}`);
      const members = membersOf.get(id)!;
      const missing = [...mg.members].filter((m) => !members.has(m));
      const extra = [...members].filter((m) => !mg.members.has(m));
      if (missing.length || extra.length) note(`group ${id}: ${missing.length} members missing, ${extra.length} extra against the model`);
    }
    for (const id of model.deletedGroups) if (groupById.has(id) && !model.uncertain.has(id)) note(`group ${id} was deleted (204) and is still there`);
  }
  let unexplained = 0;
  for (const u of users) if (!known.has(u.id)) unexplained++;
  for (const g of groups) if (!known.has(g.id) && !PROTECTED.has(g.id)) unexplained++;
  if (unexplained > uncertain) note(`${unexplained} resources in the store that no acknowledged write explains (${uncertain} writes got no answer)`);
  return { users: userById, groups: groupById, memberships, unexplained, uncertain };
}

interface Db {
  all(sql: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
  readonly kind: 'sqlite' | 'postgres';
}

async function openDb(databaseUrl: string): Promise<Db> {
  if (databaseUrl.startsWith('sqlite:')) {
    const db = new DatabaseSync(databaseUrl.slice('sqlite:'.length), { readOnly: true });
    return { kind: 'sqlite', all: async (sql) => db.prepare(sql).all() as Record<string, unknown>[], close: async () => db.close() };
  }
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  return { kind: 'postgres', all: async (sql) => (await client.query(sql)).rows, close: () => client.end() };
}

const bool = (v: unknown) => v === true || v === 1 || v === 1n;

/** Checks in the database itself, after the bridge stopped. */
export async function checkDatabase(
  databaseUrl: string,
  ack: Acknowledged,
  overHttp: HttpState,
  uncertain: number,
  problems: string[],
): Promise<Pick<ConsistencyReport, 'events' | 'eventsByAction'>> {
  const db = await openDb(databaseUrl);
  const note = (what: string) => problems.length < 500 && problems.push(what);
  try {
    const users = await db.all('SELECT id, user_name, user_name_lc, external_id, display_name, active, doc, version, created, last_modified FROM users');
    for (const row of users) {
      let doc: Json;
      try {
        doc = typeof row.doc === 'string' ? JSON.parse(row.doc) : row.doc;
      } catch {
        note(`users row ${row.id}: doc is not JSON`);
        continue;
      }
      const name = String(row.user_name);
      if (!doc || typeof doc !== 'object' || Array.isArray(doc)) note(`users row ${row.id}: doc is not an object`);
      else {
        if (doc.userName !== name) note(`users row ${row.id}: user_name ${JSON.stringify(name)} but doc.userName ${JSON.stringify(doc.userName)}`);
        const display = typeof doc.displayName === 'string' && doc.displayName ? doc.displayName : null;
        if ((row.display_name ?? null) !== display)
          note(`users row ${row.id}: display_name column ${JSON.stringify(row.display_name)} but doc.displayName ${JSON.stringify(doc.displayName)}`);
        if ((row.external_id ?? null) !== (typeof doc.externalId === 'string' ? doc.externalId : null))
          note(`users row ${row.id}: external_id column differs from doc.externalId`);
        if (typeof doc.active === 'boolean' && doc.active !== bool(row.active))
          note(`users row ${row.id}: active column ${row.active} but doc.active ${doc.active}`);
      }
      if (row.user_name_lc !== nameKey(name)) note(`users row ${row.id}: user_name_lc is not user_name's name key`);
      if (!storable(name) || !storable(String(row.doc === null ? '' : typeof row.doc === 'string' ? row.doc : JSON.stringify(row.doc))))
        note(`users row ${row.id}: unstorable text`);
      if (!(Number(row.version) >= 1)) note(`users row ${row.id}: version ${row.version}`);
      if (Number.isNaN(Date.parse(String(row.created))) || Number.isNaN(Date.parse(String(row.last_modified)))) note(`users row ${row.id}: unreadable dates`);
      const seen = overHttp.users.get(row.id as string);
      if (!seen) note(`users row ${row.id} is in the database but was not listed`);
      else if (seen.userName !== name || seen.active !== bool(row.active)) note(`users row ${row.id} differs from what the bridge answered`);
    }
    if (users.length !== overHttp.users.size) note(`${users.length} users rows, ${overHttp.users.size} listed`);

    const groups = await db.all('SELECT id, display_name, display_name_lc, managed, protected, doc, version FROM groups');
    for (const row of groups) {
      let doc: Json;
      try {
        doc = typeof row.doc === 'string' ? JSON.parse(row.doc) : row.doc;
      } catch {
        note(`groups row ${row.id}: doc is not JSON`);
        continue;
      }
      if (doc?.displayName !== row.display_name) note(`groups row ${row.id}: display_name differs from doc.displayName`);
      if (row.display_name_lc !== nameKey(String(row.display_name))) note(`groups row ${row.id}: display_name_lc is not display_name's name key`);
      const isProtected = PROTECTED.has(row.id as string);
      if (bool(row.protected) !== isProtected || bool(row.managed) === isProtected)
        note(`groups row ${row.id}: managed ${row.managed}, protected ${row.protected}`);
      if (!overHttp.groups.has(row.id as string)) note(`groups row ${row.id} is in the database but was not listed`);
    }
    if (groups.length !== overHttp.groups.size) note(`${groups.length} groups rows, ${overHttp.groups.size} listed`);

    const members = await db.all('SELECT group_id, user_id FROM group_members');
    const userIds = new Set(users.map((r) => r.id));
    const groupIds = new Set(groups.map((r) => r.id));
    for (const row of members) if (!userIds.has(row.user_id) || !groupIds.has(row.group_id)) note(`dangling membership ${row.group_id} → ${row.user_id}`);
    if (members.length !== overHttp.memberships) note(`${members.length} membership rows, ${overHttp.memberships} listed`);

    const [{ n: events }] = await db.all('SELECT count(*) AS n FROM events');
    const badEvents = await db.all(
      `SELECT count(*) AS n FROM events WHERE outcome NOT IN ('success', 'refused', 'failed') OR status < 100 OR status > 599 OR action = '' OR ${db.kind === 'sqlite' ? "at NOT GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T*'" : "at !~ '^[0-9]{4}-[01][0-9]-[0-3][0-9]T'"}`,
    );
    if (Number(badEvents[0].n)) note(`${badEvents[0].n} malformed event rows`);
    const serverErrors = await db.all('SELECT count(*) AS n FROM events WHERE status >= 500');
    if (Number(serverErrors[0].n)) note(`${serverErrors[0].n} events record a 5xx`);
    const byAction = await db.all('SELECT action, outcome, count(*) AS n FROM events GROUP BY action, outcome');
    const eventsByAction: Record<string, number> = {};
    for (const row of byAction) eventsByAction[`${row.action}/${row.outcome}`] = Number(row.n);
    const expect = (action: string, acknowledged: number) => {
      const recorded = eventsByAction[`${action}/success`] ?? 0;
      if (Math.abs(recorded - acknowledged) > uncertain) note(`${recorded} ${action} success events, ${acknowledged} acknowledged with a 2xx`);
    };
    expect('user.create', ack.userCreates);
    expect('user.delete', ack.userDeletes);
    expect('group.create', ack.groupCreates);
    expect('group.delete', ack.groupDeletes);
    // Every acknowledged create is present or was deleted afterwards; every present resource was created.
    const lifecycle = await db.all(
      "SELECT action, resource_id FROM events WHERE outcome = 'success' AND action IN ('user.create', 'user.delete', 'group.create', 'group.delete')",
    );
    const ids = (action: string) => new Set(lifecycle.filter((r) => r.action === action).map((r) => r.resource_id as string));
    for (const [kind, present] of [
      ['user', userIds],
      ['group', groupIds],
    ] as const) {
      const created = ids(`${kind}.create`);
      const deleted = ids(`${kind}.delete`);
      for (const id of created) if (!present.has(id) && !deleted.has(id)) note(`${kind} ${id}: a create event, no delete event, and no row`);
      for (const id of present) if (!created.has(id as string) && !PROTECTED.has(id as string)) note(`${kind} ${id}: a row without a create event`);
      for (const id of deleted) if (present.has(id)) note(`${kind} ${id}: a delete event and still a row`);
    }
    const [{ v }] = await db.all('SELECT max(version) AS v FROM schema_migrations');
    if (!(Number(v) >= 2)) note(`schema_migrations at ${v}`);
    return { events: Number(events), eventsByAction };
  } finally {
    await db.close();
  }
}
