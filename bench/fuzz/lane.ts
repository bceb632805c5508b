/**
 * One client lane: a seeded stream of requests against the lane's own users and groups, as an identity provider
 * (valid), a sloppy one (near-valid: one thing wrong, with a known answer) and an attacker (hostile, raw) would
 * send them. Valid and near-valid requests are predicted exactly from the lane's model; hostile ones only have to
 * be answered sanely, and what they change is read back into the model from the answer.
 *
 * Lanes never touch each other's resources, so each lane's stream depends only on the seed and its own answers:
 * the same seed replays the same requests.
 */
import { nameKey } from '../../bridge/src/scim/names';
import type { Case, Expectation, RequestClass } from './case';
import type { HttpSend } from './http';
import { type Acknowledged, LaneModel, type ModelGroup, type ModelUser } from './model';
import { Random } from './random';
import { ENTERPRISE_USER_SCHEMA, PATCHABLE_STRINGS, USER_SCHEMA, groupBody, patchBody, userBody } from './scim';
import { nameText, recase, sameIgnoringCase, token, validText } from './text';
import * as hostile from './hostile';

export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
const BASE = '/scim/v2';
const PROTECTED_IDS = ['owners', 'administrators', 'recovery', 'group-managers'];
const PROTECTED_NAMES = ['Owners', 'Administrators', 'Recovery', 'Group Managers'];
/** Okta's and Entra's User-Agents, so the status page's client list fills up as in production. */
const AGENTS = ['Okta SCIM Client 1.0.0', 'Microsoft.Azure.ActiveDirectory.Provisioning/1.0', 'scim-fuzz/1.0'];

export interface LaneOptions {
  readonly seed: string;
  readonly lane: number;
  readonly token: string;
  readonly ack: Acknowledged;
  /** Users this lane keeps alive, about. */
  readonly population?: number;
  /** Weights of the request classes. */
  readonly mix?: Readonly<Record<RequestClass, number>>;
  /** Include requests that take long by design (12 MiB bodies). */
  readonly heavy?: boolean;
}

export const DEFAULT_MIX: Readonly<Record<RequestClass, number>> = { valid: 55, 'near-valid': 20, hostile: 18, raw: 7 };

const q = (text: string) => encodeURIComponent(text);
const filterOf = (filter: string) => `filter=${q(filter)}`;
const str = (value: string) => JSON.stringify(value);

/** `a.b` of a parsed body. */
export function read(body: unknown, path: string): unknown {
  let at: unknown = body;
  for (const key of path.split('.')) at = at && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined;
  return at;
}

export class Lane {
  readonly rng: Random;
  readonly model = new LaneModel();
  /** What background requests (slow by design) created: checked at the end, never picked from. */
  readonly background = new LaneModel();
  /** Requests that must come next (the second half of a look-up-then-create, a read of a stale group). */
  private readonly queue: Case[] = [];
  private counter = 0;
  private readonly population: number;
  private readonly mix: [number, RequestClass][];

  constructor(readonly options: LaneOptions) {
    this.rng = new Random(`${options.seed}/lane${options.lane}`);
    this.population = options.population ?? 120;
    this.mix = Object.entries(options.mix ?? DEFAULT_MIX).map(([cls, w]) => [w, cls as RequestClass]);
  }

  // ---- building blocks ----

  get agent(): string {
    return AGENTS[this.options.lane % AGENTS.length];
  }

  /** Headers of an authenticated SCIM request. */
  headers(body = false, extra: Record<string, string> = {}): Record<string, string> {
    return {
      authorization: `Bearer ${this.options.token}`,
      'user-agent': this.agent,
      ...(body ? { 'content-type': 'application/scim+json' } : {}),
      ...extra,
    };
  }

  scim(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): HttpSend {
    const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return { method, path: `${BASE}${path}`, headers: this.headers(text !== undefined, extra), body: text, timeoutMs: 20_000 };
  }

  newUserName(): string {
    const n = this.counter++;
    const local = `${nameText(this.rng, 0, 6)}f${this.options.lane}n${n}${token(this.rng, 6)}`;
    return `${local}@${nameText(this.rng, 1, 8)}${token(this.rng, 3)}.example`;
  }

  newGroupName(): string {
    return `${validText(this.rng, 1, 16, { spaces: true }).trim() || 'g'} f${this.options.lane}g${this.counter++}${token(this.rng, 6)}`;
  }

  someUser(): ModelUser | undefined {
    return this.model.userAt(this.rng.next());
  }

  someGroup(): ModelGroup | undefined {
    const ids = [...this.model.groups.keys()].filter((id) => !this.model.staleGroups.has(id));
    return ids.length ? this.model.groups.get(this.rng.pick(ids)) : undefined;
  }

  /** Up to `max` distinct users, at random. */
  someUsers(max: number): string[] {
    const want = this.rng.int(0, Math.min(max, this.model.users.size));
    const out = new Set<string>();
    for (let tries = 0; out.size < want && tries < want * 4; tries++) out.add(this.model.userAt(this.rng.next())!.id);
    return [...out];
  }

  deletedUserId(): string | undefined {
    const ids = this.model.recentlyDeleted;
    return ids.length ? this.rng.pick(ids) : undefined;
  }

  randomId(): string {
    return `${token(this.rng, 8)}-${token(this.rng, 4)}-${token(this.rng, 4)}-${token(this.rng, 4)}-${token(this.rng, 12)}`;
  }

  push(c: Case): void {
    this.queue.push(c);
  }

  // ---- the stream ----

  next(): Case {
    const queued = this.queue.shift();
    if (queued) return queued;
    const stale = this.model.staleGroups.values().next();
    if (!stale.done) return this.refreshGroup(stale.value);
    const cls = this.rng.weighted(this.mix);
    switch (cls) {
      case 'valid':
        return this.valid();
      case 'near-valid':
        return this.nearValid();
      case 'hostile':
        return hostile.hostileCase(this);
      case 'raw':
        return hostile.rawCase(this);
    }
  }

  private valid(): Case {
    const users = this.model.users.size;
    const groups = this.model.groups.size;
    // Hostile requests that happen to be valid create users too: deletes keep the lane near its population.
    const grow = users < this.population ? 3 : 0.5;
    const shrink = users > 4 * this.population ? 20 : users > this.population ? 4 : 0.5;
    const pick = this.rng.weighted<() => Case | undefined>([
      [6 * grow, () => this.lookupThenCreateUser()],
      [2 * grow, () => this.createUser()],
      [10, () => this.lookupUser()],
      [8, () => this.getUser()],
      [8, () => this.patchUserStrings()],
      [4, () => this.patchUserActive()],
      [2, () => this.patchUserEmail()],
      [2, () => this.patchUserEnterprise()],
      [1, () => this.patchUserRemove()],
      [1, () => this.renameUser()],
      [3, () => this.putUser()],
      [4, () => this.selfMatch()],
      [2 * shrink, () => this.deleteUser()],
      [groups < 15 ? 4 : 0.5, () => this.createGroup()],
      [5, () => this.getGroup()],
      [3, () => this.lookupGroup()],
      [6, () => this.addMembers()],
      [4, () => this.removeMembers()],
      [1, () => this.renameGroup()],
      [1, () => this.putGroup()],
      [2, () => this.groupsOfMember()],
      [groups > 25 ? 3 : 0.4, () => this.deleteGroup()],
      [2, () => this.listPage()],
      [2, () => this.discovery()],
      [1, () => this.operations()],
    ]);
    return pick() ?? this.lookupThenCreateUser();
  }

  // ---- users (valid) ----

  lookupThenCreateUser(): Case {
    const userName = this.newUserName();
    // Okta and Entra look a user up by userName before they create it (Okta's SCIM reference, "Determine if the User already exists").
    return {
      cls: 'valid',
      kind: 'user.lookup-missing',
      http: this.scim('GET', `/Users?${filterOf(`userName eq ${str(userName)}`)}&startIndex=1&count=100`),
      expect: { statuses: [200] },
      after: (res, body) => {
        if (res.status !== 200) return undefined;
        if (body?.totalResults !== 0 || !Array.isArray(body.Resources) || body.Resources.length)
          return `a userName nobody created was found: ${JSON.stringify(body).slice(0, 200)}`;
        this.push(this.createUser(userName));
        return undefined;
      },
    };
  }

  createUser(userName = this.newUserName(), cls: RequestClass = 'valid'): Case {
    const gen = userBody(this.rng, userName);
    return {
      cls,
      kind: 'user.create',
      http: this.scim('POST', '/Users', gen.body),
      expect: { statuses: [201] },
      after: (res, body) => {
        if (res.status !== 201) return undefined;
        this.options.ack.userCreates++;
        this.model.userFromAnswer(body, res.headers.etag as string);
        if (body.userName !== userName) return `userName stored as ${str(String(body.userName))}, sent ${str(userName)}`;
        if ((body.active !== false) !== gen.active) return `active stored as ${body.active}, sent ${String(gen.body.active)}`;
        for (const [path, value] of Object.entries(gen.strings)) {
          const got = read(body, path);
          if (got !== value) return `${path} stored as ${JSON.stringify(got)}, sent ${str(value)}`;
        }
        if (body.externalId !== gen.externalId) return `externalId stored as ${JSON.stringify(body.externalId)}, sent ${JSON.stringify(gen.externalId)}`;
        if (typeof res.headers.location !== 'string' || !res.headers.location.endsWith(`/Users/${body.id}`)) return `Location header ${res.headers.location}`;
        if (body.password !== undefined) return 'the password came back';
        return undefined;
      },
      onNoAnswer: () => this.model.uncertainNames.add(nameKey(userName)),
    };
  }

  lookupUser(): Case | undefined {
    const user = this.someUser();
    if (!user) return undefined;
    const asked = this.rng.chance(0.5) ? recase(this.rng, user.userName) : user.userName;
    const found = sameIgnoringCase(asked, user.userName);
    return {
      cls: 'valid',
      kind: 'user.lookup',
      http: this.scim('GET', `/Users?${filterOf(`userName eq ${str(asked)}`)}${this.rng.chance(0.5) ? '&startIndex=1&count=100' : ''}`),
      expect: { statuses: [200] },
      after: (res, body) => {
        if (res.status !== 200) return undefined;
        if (body.totalResults !== (found ? 1 : 0))
          return `userName eq ${str(asked)} found ${body.totalResults}, expected ${found ? 1 : 0} (stored ${str(user.userName)})`;
        if (found && body.Resources?.[0]?.id !== user.id) return `userName eq found ${body.Resources?.[0]?.id}, not ${user.id}`;
        return undefined;
      },
    };
  }

  getUser(): Case | undefined {
    const user = this.someUser();
    if (!user) return undefined;
    const projection = this.rng.weighted<string>([
      [6, ''],
      [1, '?attributes=userName,active'],
      [1, '?excludedAttributes=groups'],
      [1, `?attributes=${q(`${ENTERPRISE_USER_SCHEMA}:department`)}`],
      [1, `?excludedAttributes=${q('name.givenName,emails')}`],
    ]);
    return {
      cls: 'valid',
      kind: 'user.get',
      http: this.scim('GET', `/Users/${user.id}${projection}`),
      expect: { statuses: [200] },
      after: (res, body) => {
        if (res.status !== 200) return undefined;
        if (body.id !== user.id) return `asked for ${user.id}, got ${body.id}`;
        if (projection.includes('department')) return undefined;
        if (body.userName !== user.userName) return `userName is ${str(String(body.userName))}, the model says ${str(user.userName)}`;
        if (projection.startsWith('?attributes')) {
          if (body.name !== undefined || body.emails !== undefined) return 'attributes= returned attributes not asked for';
          return body.active === user.active ? undefined : `active is ${body.active}, the model says ${user.active}`;
        }
        if (body.active !== user.active) return `active is ${body.active}, the model says ${user.active}`;
        if (projection.includes('excludedAttributes=groups')) return body.groups === undefined ? undefined : 'excludedAttributes=groups returned groups';
        const groups = new Set(((body.groups ?? []) as { value: string }[]).map((g) => g.value));
        const expected = this.model.groupsOf(user.id).filter((id) => !this.model.staleGroups.has(id));
        for (const id of expected) if (!groups.has(id)) return `the user's groups lack ${id}, a group the user was added to`;
        for (const id of groups)
          if (this.model.groups.has(id) && !this.model.staleGroups.has(id) && !this.model.groups.get(id)!.members.has(user.id))
            return `the user's groups list ${id}, which it is not in`;
        if (!projection && res.headers.etag !== body.meta?.version) return `ETag ${res.headers.etag} differs from meta.version ${body.meta?.version}`;
        return undefined;
      },
    };
  }

  /** A PATCH answered with the user: the model takes it; `check` compares it with what was sent. */
  private userPatch(
    kind: string,
    user: ModelUser,
    operations: unknown[],
    check: (body: any) => string | undefined,
    expect: Expectation = { statuses: [200] },
    headers: Record<string, string> = {},
  ): Case {
    return {
      cls: 'valid',
      kind,
      http: this.scim('PATCH', `/Users/${user.id}`, patchBody(operations), headers),
      expect,
      after: (res, body) => {
        if (res.status !== 200) return undefined;
        this.model.userFromAnswer(body, res.headers.etag as string);
        return check(body);
      },
      onNoAnswer: () => this.model.uncertain.add(user.id),
    };
  }

  patchUserStrings(): Case | undefined {
    const user = this.someUser();
    if (!user) return undefined;
    const paths = this.rng.shuffle([...PATCHABLE_STRINGS]).slice(0, this.rng.int(1, 3));
    const values = Object.fromEntries(paths.map((p) => [p, validText(this.rng, 1, 30, { spaces: true })]));
    // Entra sends a path-less replace with dotted keys; Okta one operation per path. Operation names in any case.
    const operations = this.rng.chance(0.4)
      ? [{ op: this.rng.pick(['Replace', 'replace', 'REPLACE']), value: values }]
      : paths.map((path) => ({ op: this.rng.pick(['replace', 'Replace', 'add', 'Add']), path, value: values[path] }));
    const etag: Record<string, string> = user.etag && this.rng.chance(0.2) ? { 'if-match': user.etag } : {};
    return this.userPatch(
      'user.patch',
      user,
      operations,
      (body) => {
        for (const path of paths)
          if (read(body, path) !== values[path]) return `${path} is ${JSON.stringify(read(body, path))} after a PATCH set ${str(values[path])}`;
        return undefined;
      },
      { statuses: [200] },
      etag,
    );
  }

  patchUserActive(): Case | undefined {
    const user = this.someUser();
    if (!user) return undefined;
    const active = this.rng.chance(0.5);
    const value = this.rng.chance(0.3) ? (active ? 'True' : 'False') : active;
    const operations = this.rng.chance(0.5) ? [{ op: 'Replace', path: 'active', value }] : [{ op: 'replace', value: { active: value } }];
    return this.userPatch(active ? 'user.reactivate' : 'user.suspend', user, operations, (body) =>
      body.active === active ? undefined : `active is ${body.active} after a PATCH set ${active}`,
    );
  }

  patchUserEmail(): Case | undefined {
    const user = this.someUser();
    if (!user) return undefined;
    const email = `${nameText(this.rng, 1, 8)}.${token(this.rng, 5)}@${nameText(this.rng, 1, 6)}.example`;
    // Entra's mapping `emails[type eq "work"].value`: creates the element when none matches.
    const operations = [{ op: 'replace', path: 'emails[type eq "work"].value', value: email }];
    // A suspended user's primary email may not change (it may, when there is a primary other than the work one).
    const expect: Expectation = user.active ? { statuses: [200] } : { statuses: [200, 400], scimType: ['mutability'] };
    return this.userPatch(
      'user.patch-email',
      user,
      operations,
      (body) => {
        const work = ((body.emails ?? []) as { type?: string; value?: string }[]).filter((e) => e.type === 'work');
        return work.some((e) => e.value === email) ? undefined : `no work email ${email} after the PATCH: ${JSON.stringify(body.emails)}`;
      },
      expect,
    );
  }

  patchUserEnterprise(): Case | undefined {
    const user = this.someUser();
    if (!user) return undefined;
    const department = validText(this.rng, 1, 20, { spaces: true });
    const manager = this.someUser();
    const operations: unknown[] = [{ op: 'Add', path: `${ENTERPRISE_USER_SCHEMA}:department`, value: department }];
    if (manager && this.rng.chance(0.5)) operations.push({ op: 'replace', path: `${ENTERPRISE_USER_SCHEMA}:manager`, value: manager.id });
    return this.userPatch('user.patch-enterprise', user, operations, (body) =>
      body[ENTERPRISE_USER_SCHEMA]?.department === department
        ? undefined
        : `department is ${JSON.stringify(body[ENTERPRISE_USER_SCHEMA]?.department)} after a PATCH set ${str(department)}`,
    );
  }

  patchUserRemove(): Case | undefined {
    const user = this.someUser();
    if (!user) return undefined;
    const path = this.rng.pick(['title', 'nickName', 'name.givenName', 'phoneNumbers', `${ENTERPRISE_USER_SCHEMA}:department`]);
    return this.userPatch('user.patch-remove', user, [{ op: 'remove', path }], (body) =>
      read(body, path) === undefined && !(path.startsWith('urn:') && body[ENTERPRISE_USER_SCHEMA]?.department !== undefined)
        ? undefined
        : `${path} is still there after remove`,
    );
  }

  renameUser(): Case | undefined {
    const user = this.someUser();
    if (!user) return undefined;
    const userName = this.newUserName();
    const reactivate = !user.active && this.rng.chance(0.5);
    const operations: unknown[] = [{ op: 'replace', path: 'userName', value: userName }];
    if (reactivate) operations.push({ op: 'replace', path: 'active', value: true });
    // A suspended user keeps its email address (userName) unless the same request reactivates it.
    const allowed = user.active || reactivate;
    return this.userPatch(
      'user.rename',
      user,
      operations,
      (body) => (body.userName === userName ? undefined : `userName is ${str(String(body.userName))} after a rename to ${str(userName)}`),
      allowed ? { statuses: [200] } : { statuses: [400], scimType: ['mutability'] },
    );
  }

  putUser(): Case | undefined {
    const user = this.someUser();
    if (!user) return undefined;
    // Okta updates with a GET, then a PUT of the whole user (Okta's SCIM reference, "Update a specific User (PUT)").
    const gen = userBody(this.rng, user.userName, 0.5);
    // A PUT that leaves active out keeps the user's state: an omission never reactivates (README, provisioning rules).
    const activeAfter = gen.body.active === undefined ? user.active : gen.active;
    const suspendedAfter = !user.active && !activeAfter;
    return {
      cls: 'valid',
      kind: 'user.put',
      http: this.scim('PUT', `/Users/${user.id}`, { ...gen.body, id: user.id }),
      expect: suspendedAfter ? { statuses: [200, 400], scimType: ['mutability'] } : { statuses: [200] },
      after: (res, body) => {
        if (res.status !== 200) return undefined;
        this.model.userFromAnswer(body, res.headers.etag as string);
        if ((body.active !== false) !== activeAfter) return `active is ${body.active} after a PUT with ${String(gen.body.active)}`;
        for (const [path, value] of Object.entries(gen.strings))
          if (read(body, path) !== value) return `${path} is ${JSON.stringify(read(body, path))} after a PUT with ${str(value)}`;
        if (body.title !== undefined && gen.strings.title === undefined) return 'a PUT without title kept the title';
        return undefined;
      },
      onNoAnswer: () => this.model.uncertain.add(user.id),
    };
  }

  /** A stored value must match itself with `eq` (pinned to the user by `userName eq`, so the answer is exact). */
  selfMatch(): Case | undefined {
    const user = this.someUser();
    if (!user) return undefined;
    const entries = Object.entries(user.strings).filter(([path, value]) => path !== 'profileUrl' && value.length <= 1000);
    if (!entries.length) return this.lookupUser();
    const [path, value] = this.rng.pick(entries);
    // Only ASCII letters change case here: every store folds those alike; other scripts must match as stored.
    const asked = this.rng.chance(0.3) ? value.replace(/[a-z]/gi, (c) => (this.rng.chance(0.5) ? c.toUpperCase() : c.toLowerCase())) : value;
    // Lower-casing depends on context for one letter (Σ is ς at a word's end), so a piece of a value is not always
    // the piece of its lower-cased form: substrings are taken only from values without it.
    const op = /[Σσς]/.test(value) ? 'eq' : this.rng.pick(['eq', 'eq', 'sw', 'co', 'ew']);
    const filter = `userName eq ${str(user.userName)} and ${path} ${op} ${str(op === 'eq' ? asked : op === 'sw' ? [...asked].slice(0, 2).join('') : op === 'ew' ? [...asked].slice(-2).join('') : [...asked].slice(1, 3).join('') || asked)}`;
    return {
      cls: 'valid',
      kind: 'user.self-match',
      http: this.scim('GET', `/Users?${filterOf(filter)}&attributes=userName`),
      expect: { statuses: [200] },
      after: (res, body) => {
        if (res.status !== 200) return undefined;
        return body.totalResults === 1 ? undefined : `${path} stored as ${str(value)} is not found by ${filter}`;
      },
    };
  }

  deleteUser(): Case | undefined {
    const user = this.someUser();
    if (!user) return undefined;
    const ifMatch: Record<string, string> = user.etag && this.rng.chance(0.2) ? { 'if-match': user.etag } : {};
    return {
      cls: 'valid',
      kind: 'user.delete',
      // Entra sends a content type on a bodiless DELETE.
      http: this.scim('DELETE', `/Users/${user.id}`, undefined, { ...ifMatch, ...(this.rng.chance(0.5) ? { 'content-type': 'application/scim+json' } : {}) }),
      expect: { statuses: [204] },
      after: (res) => {
        if (res.status !== 204) return undefined;
        this.options.ack.userDeletes++;
        this.model.deleteUser(user.id);
        return undefined;
      },
      onNoAnswer: () => this.model.uncertain.add(user.id),
    };
  }

  // ---- groups (valid) ----

  createGroup(cls: RequestClass = 'valid'): Case {
    const displayName = this.newGroupName();
    const members = this.someUsers(40);
    const entraStyle = this.rng.chance(0.5);
    // Entra: look the group up (without members), create it empty, then PATCH members in batches; Okta pushes with members.
    const send = (withMembers: readonly string[]): Case => ({
      cls,
      kind: withMembers.length ? 'group.create-with-members' : 'group.create',
      http: this.scim('POST', '/Groups', groupBody(displayName, withMembers, this.rng)),
      expect: { statuses: [201] },
      after: (res, body) => {
        if (res.status !== 201) return undefined;
        this.options.ack.groupCreates++;
        const group = this.model.groupFromAnswer(body, res.headers.etag as string);
        if (body.displayName !== displayName) return `displayName stored as ${str(String(body.displayName))}, sent ${str(displayName)}`;
        const expected = new Set(withMembers);
        if (group && (group.members.size !== expected.size || [...expected].some((id) => !group.members.has(id))))
          return `created with ${expected.size} members, answered ${group.members.size}`;
        if (entraStyle && members.length && group) this.push(this.addMembers(group, members)!);
        return undefined;
      },
      onNoAnswer: () => this.model.uncertainNames.add(nameKey(displayName)),
    });
    if (!entraStyle) return send(members);
    return {
      cls,
      kind: 'group.lookup-missing',
      http: this.scim('GET', `/Groups?${filterOf(`displayName eq ${str(displayName)}`)}&excludedAttributes=members`),
      expect: { statuses: [200] },
      after: (res, body) => {
        if (res.status !== 200) return undefined;
        if (body.totalResults !== 0) return `a group nobody created was found: ${JSON.stringify(body).slice(0, 200)}`;
        this.push(send([]));
        return undefined;
      },
    };
  }

  refreshGroup(id: string): Case {
    return {
      cls: 'valid',
      kind: 'group.refresh',
      http: this.scim('GET', `/Groups/${id}`),
      expect: { statuses: [200, 404] },
      after: (res, body) => {
        if (res.status === 404) this.model.deleteGroup(id);
        else if (res.status === 200) this.model.groupFromAnswer(body, res.headers.etag as string);
        return undefined;
      },
    };
  }

  getGroup(): Case | undefined {
    const group = this.someGroup();
    if (!group) return undefined;
    return {
      cls: 'valid',
      kind: 'group.get',
      http: this.scim('GET', `/Groups/${group.id}`),
      expect: { statuses: [200] },
      after: (res, body) => {
        if (res.status !== 200) return undefined;
        if (body.displayName !== group.displayName) return `displayName is ${str(String(body.displayName))}, the model says ${str(group.displayName)}`;
        const got = new Set(((body.members ?? []) as { value: string }[]).map((m) => m.value));
        const missing = [...group.members].filter((id) => !got.has(id));
        const extra = [...got].filter((id) => !group.members.has(id));
        if (missing.length || extra.length)
          return `members differ from the model: missing ${missing.slice(0, 3).join(',')} (${missing.length}), extra ${extra.slice(0, 3).join(',')} (${extra.length})`;
        for (const m of (body.members ?? []) as { value: string; display?: unknown }[]) {
          const user = this.model.users.get(m.value);
          const shown = user?.strings.displayName || user?.userName;
          if (user && !this.model.uncertain.has(user.id) && m.display !== shown)
            return `member ${m.value} is shown as ${JSON.stringify(m.display)}, not ${JSON.stringify(shown)}`;
        }
        return undefined;
      },
    };
  }

  lookupGroup(): Case | undefined {
    const group = this.someGroup();
    if (!group) return undefined;
    const asked = this.rng.chance(0.5) ? recase(this.rng, group.displayName) : group.displayName;
    const found = sameIgnoringCase(asked, group.displayName);
    return {
      cls: 'valid',
      kind: 'group.lookup',
      http: this.scim('GET', `/Groups?${filterOf(`displayName eq ${str(asked)}`)}&excludedAttributes=members`),
      expect: { statuses: [200] },
      after: (res, body) => {
        if (res.status !== 200) return undefined;
        if (body.totalResults !== (found ? 1 : 0)) return `displayName eq ${str(asked)} found ${body.totalResults}, expected ${found ? 1 : 0}`;
        if (found && body.Resources[0].id !== group.id) return `displayName eq found ${body.Resources[0].id}, not ${group.id}`;
        if (found && body.Resources[0].members !== undefined) return 'excludedAttributes=members returned members';
        return undefined;
      },
    };
  }

  /** PATCH answered 204: the model applies the change the request asked for. */
  private groupPatch(
    kind: string,
    group: ModelGroup,
    operations: unknown[],
    apply: () => void,
    expect: Expectation = { statuses: [204] },
    headers: Record<string, string> = {},
  ): Case {
    return {
      cls: 'valid',
      kind,
      http: this.scim('PATCH', `/Groups/${group.id}`, patchBody(operations), headers),
      expect,
      after: (res) => {
        if (res.status !== 204) return undefined;
        apply();
        group.etag = res.headers.etag as string;
        return typeof res.headers.etag === 'string' ? undefined : 'a group PATCH answered without an ETag';
      },
      onNoAnswer: () => this.model.staleGroups.add(group.id),
    };
  }

  addMembers(group = this.someGroup(), ids?: readonly string[]): Case | undefined {
    if (!group) return undefined;
    const add = ids ?? this.someUsers(50);
    if (!add.length) return undefined;
    // Entra: batches of members in one operation; Okta: one operation per member.
    const operations = this.rng.chance(0.5)
      ? [{ op: 'Add', path: 'members', value: add.map((value) => ({ value })) }]
      : add.map((value) => ({ op: 'add', path: 'members', value: [{ value, display: 'ignored' }] }));
    return this.groupPatch('group.members-add', group, operations, () => {
      for (const id of add) group.members.add(id);
    });
  }

  removeMembers(): Case | undefined {
    const group = this.someGroup();
    if (!group?.members.size) return undefined;
    const remove = this.rng.shuffle([...group.members]).slice(0, this.rng.int(1, Math.min(20, group.members.size)));
    const operations = this.rng.chance(0.5)
      ? remove.map((id) => ({ op: 'remove', path: `members[value eq ${str(id)}]` }))
      : [{ op: 'Remove', path: 'members', value: remove.map((value) => ({ value })) }];
    return this.groupPatch('group.members-remove', group, operations, () => {
      for (const id of remove) group.members.delete(id);
    });
  }

  renameGroup(): Case | undefined {
    const group = this.someGroup();
    if (!group) return undefined;
    const displayName = this.newGroupName();
    const operations = this.rng.chance(0.5)
      ? [{ op: 'Replace', path: 'displayName', value: displayName }]
      : [{ op: 'replace', value: { id: group.id, displayName } }];
    return this.groupPatch('group.rename', group, operations, () => (group.displayName = displayName));
  }

  putGroup(): Case | undefined {
    const group = this.someGroup();
    if (!group) return undefined;
    const members = this.someUsers(30);
    return {
      cls: 'valid',
      kind: 'group.put',
      http: this.scim('PUT', `/Groups/${group.id}`, groupBody(group.displayName, members, this.rng)),
      expect: { statuses: [200] },
      after: (res, body) => {
        if (res.status !== 200) return undefined;
        const updated = this.model.groupFromAnswer(body, res.headers.etag as string);
        if (updated && (updated.members.size !== new Set(members).size || members.some((id) => !updated.members.has(id))))
          return `a PUT with ${members.length} members answered ${updated.members.size}`;
        return undefined;
      },
      onNoAnswer: () => this.model.staleGroups.add(group.id),
    };
  }

  groupsOfMember(): Case | undefined {
    const user = this.someUser();
    if (!user || this.model.staleGroups.size) return undefined;
    const filter = this.rng.chance(0.5) ? `members[value eq ${str(user.id)}]` : `members.value eq ${str(user.id)}`;
    return {
      cls: 'valid',
      kind: 'group.by-member',
      http: this.scim('GET', `/Groups?${filterOf(filter)}&excludedAttributes=members&count=1000`),
      expect: { statuses: [200] },
      after: (res, body) => {
        if (res.status !== 200 || this.model.staleGroups.size) return undefined;
        const got = new Set(((body.Resources ?? []) as { id: string }[]).map((g) => g.id));
        const expected = this.model.groupsOf(user.id);
        if (got.size !== expected.length || expected.some((id) => !got.has(id))) return `${filter} found ${got.size} groups, the model has ${expected.length}`;
        return undefined;
      },
    };
  }

  deleteGroup(): Case | undefined {
    const group = this.someGroup();
    if (!group) return undefined;
    return {
      cls: 'valid',
      kind: 'group.delete',
      http: this.scim('DELETE', `/Groups/${group.id}`),
      expect: { statuses: [204] },
      after: (res) => {
        if (res.status !== 204) return undefined;
        this.options.ack.groupDeletes++;
        this.model.deleteGroup(group.id);
        return undefined;
      },
      onNoAnswer: () => this.model.uncertain.add(group.id),
    };
  }

  // ---- lists, discovery, operations (valid) ----

  listPage(): Case {
    const resource = this.rng.pick(['Users', 'Groups']);
    const count = this.rng.pick([0, 1, 10, 100]);
    const startIndex = this.rng.int(1, 300);
    const extra =
      resource === 'Groups'
        ? '&excludedAttributes=members'
        : this.rng.pick(['', '&sortBy=userName', '&sortBy=meta.lastModified&sortOrder=descending', '&sortBy=name.familyName']);
    return {
      cls: 'valid',
      kind: `list.${resource.toLowerCase()}`,
      http: this.scim('GET', `/${resource}?startIndex=${startIndex}&count=${count}${extra}`),
      expect: { statuses: [200] },
      after: (res, body) => {
        if (res.status !== 200) return undefined;
        if (!Array.isArray(body.schemas) || body.schemas[0] !== 'urn:ietf:params:scim:api:messages:2.0:ListResponse') return 'not a ListResponse';
        const items = body.Resources ?? [];
        if (items.length !== body.itemsPerPage) return `itemsPerPage ${body.itemsPerPage} but ${items.length} resources`;
        if (items.length > count) return `count=${count} answered ${items.length}`;
        if (body.startIndex !== startIndex) return `startIndex ${body.startIndex}, asked ${startIndex}`;
        return items.every((r: { id?: unknown }) => typeof r.id === 'string') ? undefined : 'a listed resource without an id';
      },
    };
  }

  discovery(): Case {
    const path = this.rng.pick([
      '/ServiceProviderConfig',
      '/Schemas',
      '/ResourceTypes',
      '/ResourceTypes/User',
      `/Schemas/${USER_SCHEMA}`,
      `/Schemas/${ENTERPRISE_USER_SCHEMA}`,
    ]);
    const http = this.scim('GET', path);
    // Discovery needs no token.
    const headers = this.rng.chance(0.3) ? { 'user-agent': this.agent } : http.headers;
    return { cls: 'valid', kind: 'discovery', http: { ...http, headers }, expect: { statuses: [200] } };
  }

  operations(): Case {
    const path = this.rng.pick(['/ping', '/health', '/metrics', '/api/status', '/api/events?limit=5', '/api/events?outcome=refused&q=user', '/', '/app']);
    return {
      cls: 'valid',
      kind: 'operations',
      http: { method: 'GET', path, headers: this.headers(), timeoutMs: 20_000 },
      expect: { statuses: [200] },
    };
  }

  // ---- near-valid: one thing wrong, the answer known ----

  private nearValid(): Case {
    const pick = this.rng.weighted<() => Case | undefined>([
      [4, () => this.duplicateUser()],
      [5, () => this.badUserBody()],
      [3, () => this.badPatch()],
      [3, () => this.missing()],
      [2, () => this.staleIfMatch()],
      [3, () => this.badGroup()],
      [5, () => this.badQuery()],
      [3, () => this.badAuth()],
      [2, () => this.notImplemented()],
      [2, () => this.oddButFine()],
    ]);
    return pick() ?? this.badQuery();
  }

  private refused(kind: string, http: HttpSend, status: number, scimType?: string | string[], statuses?: number[]): Case {
    return {
      cls: 'near-valid',
      kind,
      http,
      expect: { statuses: statuses ?? [status], ...(scimType ? { scimType: Array.isArray(scimType) ? scimType : [scimType] } : {}) },
    };
  }

  duplicateUser(): Case | undefined {
    const user = this.someUser();
    if (!user) return undefined;
    const asked = recase(this.rng, user.userName);
    if (!sameIgnoringCase(asked, user.userName)) return undefined;
    return this.refused('user.duplicate', this.scim('POST', '/Users', userBody(this.rng, asked).body), 409, 'uniqueness');
  }

  badUserBody(): Case {
    const userName = this.newUserName();
    const base = () => userBody(this.rng, userName, 0.2).body;
    const [kind, body, scimType] = this.rng.pick<[string, unknown, string]>([
      [
        'user.no-username',
        (() => {
          const b = base();
          delete b.userName;
          return b;
        })(),
        'invalidValue',
      ],
      ['user.blank-username', { ...base(), userName: '   ' }, 'invalidValue'],
      ['user.not-email', { ...base(), userName: userName.replace('@', '') }, 'invalidValue'],
      ['user.space-in-username', { ...base(), userName: userName.replace('@', ' @') }, 'invalidValue'],
      ['user.long-username', { ...base(), userName: `${'a'.repeat(260)}@x.example` }, 'invalidValue'],
      ['user.bad-active', { ...base(), active: 'maybe' }, 'invalidValue'],
      ['user.name-array', { ...base(), name: [{ givenName: 'x' }] }, 'invalidValue'],
      ['user.email-not-address', { ...base(), emails: [{ value: 'nobody', type: 'work' }] }, 'invalidValue'],
      [
        'user.two-primary',
        {
          ...base(),
          emails: [
            { value: 'a@x.example', primary: true },
            { value: 'b@x.example', primary: true },
          ],
        },
        'invalidValue',
      ],
      ['user.externalid-number', { ...base(), externalId: 42 }, 'invalidValue'],
      ['user.body-array', [base()], 'invalidSyntax'],
      ['user.body-string', str(userName), 'invalidSyntax'],
      ['user.body-null', 'null', 'invalidSyntax'],
      ['user.schemas-string', { ...base(), schemas: USER_SCHEMA }, 'invalidSyntax'],
      ['user.bad-json', `{"schemas":["${USER_SCHEMA}"],"userName":${str(userName)},}`, 'invalidSyntax'],
    ]);
    return this.refused(kind, this.scim('POST', '/Users', body), 400, scimType);
  }

  badPatch(): Case | undefined {
    const user = this.someUser();
    if (!user) return undefined;
    const [kind, body, scimType] = this.rng.pick<[string, unknown, string]>([
      ['patch.bad-op', patchBody([{ op: 'merge', path: 'title', value: 'x' }]), 'invalidSyntax'],
      ['patch.no-operations', { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'] }, 'invalidSyntax'],
      ['patch.empty-operations', patchBody([]), 'invalidSyntax'],
      ['patch.wrong-schema', { schemas: [USER_SCHEMA], Operations: [{ op: 'add', path: 'title', value: 'x' }] }, 'invalidSyntax'],
      ['patch.unknown-path', patchBody([{ op: 'replace', path: 'noSuchAttribute', value: 'x' }]), 'invalidPath'],
      ['patch.remove-no-path', patchBody([{ op: 'remove' }]), 'noTarget'],
      ['patch.no-value', patchBody([{ op: 'add', path: 'title' }]), 'invalidSyntax'],
      ['patch.read-only', patchBody([{ op: 'replace', path: 'groups', value: [] }]), 'mutability'],
      ['patch.remove-required', patchBody([{ op: 'remove', path: 'userName' }]), 'mutability'],
      ['patch.path-number', patchBody([{ op: 'replace', path: 7, value: 'x' }]), 'invalidPath'],
      ['patch.filter-on-single', patchBody([{ op: 'replace', path: 'title[value eq "x"]', value: 'x' }]), 'invalidPath'],
      ['patch.bad-sub', patchBody([{ op: 'replace', path: 'name.noSuch', value: 'x' }]), 'invalidPath'],
      ['patch.unknown-schema', patchBody([{ op: 'replace', path: 'urn:example:nothing:1.0:User:x', value: 'x' }]), 'invalidPath'],
      ['patch.bad-value-type', patchBody([{ op: 'replace', path: 'active', value: 'perhaps' }]), 'invalidValue'],
      ['patch.too-many', patchBody(Array.from({ length: 1001 }, () => ({ op: 'add', path: 'title', value: 'x' }))), 'tooMany'],
    ]);
    return this.refused(kind, this.scim('PATCH', `/Users/${user.id}`, body), 400, scimType);
  }

  missing(): Case {
    const id = this.rng.chance(0.5) ? (this.deletedUserId() ?? this.randomId()) : this.randomId();
    const [method, path, body] = this.rng.pick<[string, string, unknown]>([
      ['GET', `/Users/${id}`, undefined],
      ['PATCH', `/Users/${id}`, patchBody([{ op: 'replace', path: 'title', value: 'x' }])],
      ['PUT', `/Users/${id}`, userBody(this.rng, this.newUserName(), 0.1).body],
      ['DELETE', `/Users/${id}`, undefined],
      ['GET', `/Groups/${id}`, undefined],
      ['PATCH', `/Groups/${id}`, patchBody([{ op: 'add', path: 'members', value: [{ value: id }] }])],
      ['DELETE', `/Groups/${id}`, undefined],
      ['GET', `/NoSuchResource/${id}`, undefined],
    ]);
    return this.refused('not-found', this.scim(method, path, body), 404);
  }

  staleIfMatch(): Case | undefined {
    const user = this.someUser();
    if (!user) return undefined;
    const stale = this.rng.pick(['W/"999999"', '"999999"', 'W/"0"', 'garbage']);
    const [method, body] = this.rng.pick<[string, unknown]>([
      ['PATCH', patchBody([{ op: 'replace', path: 'title', value: 'stale' }])],
      ['PUT', userBody(this.rng, user.userName, 0.1).body],
      ['DELETE', undefined],
    ]);
    return this.refused('if-match.stale', this.scim(method, `/Users/${user.id}`, body, { 'if-match': stale }), 412);
  }

  badGroup(): Case | undefined {
    const group = this.someGroup();
    const user = this.someUser();
    const choices: [string, () => Case][] = [
      [
        'group.no-name',
        () => this.refused('group.no-name', this.scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'] }), 400, 'invalidValue'),
      ],
      [
        'group.unknown-member',
        () =>
          this.refused('group.unknown-member', this.scim('POST', '/Groups', groupBody(this.newGroupName(), [this.randomId()], this.rng)), 400, 'invalidValue'),
      ],
      [
        'group.protected-name',
        () =>
          this.refused(
            'group.protected-name',
            this.scim('POST', '/Groups', groupBody(recase(this.rng, this.rng.pick(PROTECTED_NAMES)).toLowerCase(), [], this.rng)),
            409,
            'uniqueness',
          ),
      ],
      [
        'group.protected-patch',
        () =>
          this.refused(
            'group.protected-patch',
            this.scim('PATCH', `/Groups/${this.rng.pick(PROTECTED_IDS)}`, patchBody([{ op: 'add', path: 'members', value: user ? [{ value: user.id }] : [] }])),
            403,
          ),
      ],
      ['group.protected-delete', () => this.refused('group.protected-delete', this.scim('DELETE', `/Groups/${this.rng.pick(PROTECTED_IDS)}`), 403)],
    ];
    if (group) {
      const asked = recase(this.rng, group.displayName);
      const duplicate = sameIgnoringCase(asked, group.displayName) ? asked : group.displayName;
      choices.push([
        'group.duplicate',
        () => this.refused('group.duplicate', this.scim('POST', '/Groups', groupBody(duplicate, [], this.rng)), 409, 'uniqueness'),
      ]);
      choices.push([
        'group.add-missing-member',
        () =>
          this.refused(
            'group.add-missing-member',
            this.scim('PATCH', `/Groups/${group.id}`, patchBody([{ op: 'add', path: 'members', value: [{ value: this.deletedUserId() ?? this.randomId() }] }])),
            400,
            'invalidValue',
          ),
      ]);
      choices.push([
        'group.member-sub-path',
        () =>
          this.refused(
            'group.member-sub-path',
            this.scim('PATCH', `/Groups/${group.id}`, patchBody([{ op: 'replace', path: 'members.display', value: 'x' }])),
            400,
            ['invalidPath', 'mutability'],
          ),
      ]);
      choices.push([
        'group.blank-rename',
        () =>
          this.refused(
            'group.blank-rename',
            this.scim('PATCH', `/Groups/${group.id}`, patchBody([{ op: 'replace', path: 'displayName', value: '' }])),
            400,
            'invalidValue',
          ),
      ]);
      const other = this.someGroup();
      if (other && other.id !== group.id) {
        choices.push([
          'group.rename-taken',
          () =>
            this.refused(
              'group.rename-taken',
              this.scim('PATCH', `/Groups/${group.id}`, patchBody([{ op: 'replace', path: 'displayName', value: other.displayName }])),
              409,
              'uniqueness',
            ),
        ]);
      }
    }
    return this.rng.pick(choices)[1]();
  }

  badQuery(): Case {
    const resource = this.rng.pick(['/Users', '/Groups']);
    const [kind, query, scimType, status] = this.rng.pick<[string, string, string | undefined, number]>([
      ['filter.no-value', filterOf('userName eq'), 'invalidFilter', 400],
      ['filter.unknown-attribute', filterOf('noSuchThing eq "x"'), 'invalidFilter', 400],
      ['filter.bad-operator', filterOf('userName xx "x"'), 'invalidFilter', 400],
      ['filter.unbalanced', filterOf('((userName eq "a")'), 'invalidFilter', 400],
      ['filter.dangling-and', filterOf('userName eq "a" and'), 'invalidFilter', 400],
      ['filter.boolean-gt', filterOf(resource === '/Users' ? 'active gt true' : 'displayName gt true'), 'invalidFilter', 400],
      ['filter.bad-date', filterOf('meta.created gt "yesterday"'), 'invalidFilter', 400],
      ['filter.open-bracket', filterOf('emails[type eq "work"'), 'invalidFilter', 400],
      ['filter.unterminated', filterOf('userName eq "abc'), 'invalidFilter', 400],
      ['filter.too-long', filterOf(`userName eq "${'x'.repeat(4100)}"`), 'invalidFilter', 400],
      ['filter.too-deep', filterOf(`${'('.repeat(40)}userName eq "x"${')'.repeat(40)}`), 'invalidFilter', 400],
      ['paging.start-not-number', 'startIndex=abc', 'invalidValue', 400],
      ['paging.count-fraction', 'count=1.5', 'invalidValue', 400],
      ['paging.count-exponent', 'count=1e3', 'invalidValue', 400],
      ['paging.start-huge', 'startIndex=99999999999', 'invalidValue', 400],
      ['paging.twice-last-bad', 'count=1&count=x', 'invalidValue', 400],
      ['sort.unknown', 'sortBy=noSuchThing', 'invalidValue', 400],
      ['sort.multi-valued', `sortBy=${resource === '/Users' ? 'emails' : 'members'}`, 'invalidValue', 400],
      ['sort.bad-order', 'sortOrder=sideways', 'invalidValue', 400],
      ['projection.malformed', 'attributes=a..b', 'invalidValue', 400],
      ['paging.count-negative', 'count=-3', undefined, 200],
      ['paging.start-zero', 'startIndex=0&count=1', undefined, 200],
      ['filter.unknown-urn-projection', `attributes=${q('urn:example:x:1.0:')}`, undefined, 200],
    ]);
    return this.refused(kind, this.scim('GET', `${resource}?${query}`), status, scimType);
  }

  badAuth(): Case {
    const method = this.rng.pick(['GET', 'POST', 'PATCH', 'DELETE']);
    // A route that exists for the method: unknown paths are 404 before authentication.
    const path =
      method === 'GET'
        ? this.rng.pick(['/Users', '/Groups', '/Users?count=1', `/Users/${this.randomId()}`])
        : method === 'POST'
          ? this.rng.pick(['/Users', '/Groups'])
          : `/${this.rng.pick(['Users', 'Groups'])}/${this.randomId()}`;
    const [kind, authorization] = this.rng.pick<[string, string | undefined]>([
      ['auth.none', undefined],
      ['auth.wrong', `Bearer ${token(this.rng, 43)}`],
      ['auth.extended', `Bearer ${this.options.token}x`],
      ['auth.truncated', `Bearer ${this.options.token.slice(0, -1)}`],
      ['auth.basic', `Basic ${Buffer.from('admin:admin').toString('base64')}`],
      ['auth.scheme-only', 'Bearer'],
      ['auth.huge', `Bearer ${'A'.repeat(this.rng.int(1000, 12_000))}`],
    ]);
    const body = method === 'POST' || method === 'PATCH' ? JSON.stringify(userBody(this.rng, this.newUserName(), 0.1).body) : undefined;
    const headers: Record<string, string> = {
      'user-agent': this.agent,
      ...(authorization ? { authorization } : {}),
      ...(body ? { 'content-type': 'application/scim+json' } : {}),
    };
    // Past 20 failures a minute from one address, 429 with Retry-After instead of 401.
    return { cls: 'near-valid', kind, http: { method, path: `${BASE}${path}`, headers, body, timeoutMs: 20_000 }, expect: { statuses: [401, 429] } };
  }

  notImplemented(): Case {
    const [method, path] = this.rng.pick<[string, string]>([
      ['GET', '/Me'],
      ['PATCH', '/Me'],
      ['POST', '/Bulk'],
    ]);
    return this.refused('not-implemented', this.scim(method, path, method === 'GET' ? undefined : { schemas: [] }), 501);
  }

  /** Sloppy but acceptable: the answer is a success. */
  oddButFine(): Case | undefined {
    const user = this.someUser();
    const [kind, http, statuses] = this.rng.pick<[string, HttpSend, number[]]>([
      ['accept.json', this.scim('GET', '/Users?count=1', undefined, { accept: 'application/json' }), [200]],
      ['path.alias-scim', { ...this.scim('GET', '/Users?count=1'), path: '/scim/Users?count=1' }, [200]],
      ['path.alias-bare', { ...this.scim('GET', '/Users?count=1'), path: '/Users?count=1' }, [200]],
      ['path.case', { ...this.scim('GET', '/Users?count=1'), path: '/SCIM/V2/USERS?count=1' }, [200]],
      ['path.trailing-slash', { ...this.scim('GET', '/Users/?count=1') }, [200]],
      ['path.double-slash', { ...this.scim('GET', '/Users?count=1'), path: '//scim//v2//Users?count=1' }, [200]],
      [
        'content-type.plain',
        { ...this.scim('POST', '/Users', userBody(this.rng, this.newUserName(), 0.1).body), headers: this.headers(false, { 'content-type': 'text/plain' }) },
        [201],
      ],
      ['head.users', { ...this.scim('HEAD', '/Users?count=1') }, [200]],
      ['get.user-by-alias', this.scim('GET', user ? `/Users/${user.id}?attributes=id` : '/Users?count=1'), [200]],
    ]);
    return {
      cls: 'near-valid',
      kind,
      http,
      expect: { statuses, noBody: http.method === 'HEAD' },
      after: (res, body) => {
        if (kind === 'accept.json' && !String(res.headers['content-type']).startsWith('application/json'))
          return `Accept: application/json answered ${res.headers['content-type']}`;
        if (kind === 'content-type.plain' && res.status === 201) {
          this.options.ack.userCreates++;
          this.model.userFromAnswer(body, res.headers.etag as string);
        }
        return undefined;
      },
    };
  }
}
