/**
 * Reconciliation on both stores: an application takes `/api/snapshot` page by page while an identity provider keeps
 * writing (between pages and concurrently), then follows `/api/changes` from the snapshot's cursor with the
 * documented rule, and ends with exactly the directory's state.
 */
import { BRIDGE_PATHS } from '../../contract';
import { feedCursor } from '../../bridge/src/feed/cursor';
import { MEMBERS_PER_SNAPSHOT_PAGE } from '../../bridge/src/feed/snapshot';
import { STORE_KINDS } from '../support/bridge';
import { type TestEdge, startEdge } from '../support/edge';
import { FeedConsumer, directoryView } from '../support/feed-consumer';

const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

async function call(url: string, method: string, token: string, body?: unknown) {
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

/** An identity provider's writes: creates, updates, suspensions, deletes, membership changes, renames, group deletes. */
class Provider {
  users: string[] = [];
  groups: string[] = [];
  private n = 0;
  constructor(
    private readonly edge: TestEdge,
    private readonly next: () => number,
    /** Names this provider's resources: two providers never touch each other's. */
    private readonly prefix: string,
  ) {}

  private pick<T>(list: T[]): T | undefined {
    return list.length ? list[Math.floor(this.next() * list.length)] : undefined;
  }

  async createUser(): Promise<void> {
    const res = await call(`${this.edge.scim}/Users`, 'POST', this.edge.token, {
      userName: `${this.prefix}u${this.n++}@example.com`,
      name: { givenName: 'U' },
    });
    expect(res.status).toBe(201);
    this.users.push(res.body.id);
  }

  async createGroup(members: string[]): Promise<void> {
    const res = await call(`${this.edge.scim}/Groups`, 'POST', this.edge.token, {
      displayName: `${this.prefix}g${this.n++}`,
      members: members.map((value) => ({ value })),
    });
    expect(res.status).toBe(201);
    this.groups.push(res.body.id);
  }

  /** One write chosen at random; every answer must be a success (the targets exist: only this provider deletes). */
  async step(): Promise<void> {
    const roll = this.next();
    const user = this.pick(this.users);
    const group = this.pick(this.groups);
    const s = this.edge.scim;
    const t = this.edge.token;
    let res: { status: number } = { status: 200 };
    if (roll < 0.2 || !user) return this.createUser();
    if (roll < 0.3 || !group) return this.createGroup(this.users.filter(() => this.next() < 0.3));
    if (roll < 0.45)
      res = await call(`${s}/Users/${user}`, 'PATCH', t, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'name.givenName', value: `G${this.n++}` }] });
    else if (roll < 0.55)
      res = await call(`${s}/Users/${user}`, 'PATCH', t, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: this.next() < 0.5 }] });
    else if (roll < 0.63) {
      res = await call(`${s}/Users/${user}`, 'DELETE', t);
      this.users = this.users.filter((id) => id !== user);
    } else if (roll < 0.78)
      res = await call(`${s}/Groups/${group}`, 'PATCH', t, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: user }] }] });
    else if (roll < 0.9)
      res = await call(`${s}/Groups/${group}`, 'PATCH', t, { schemas: [PATCH], Operations: [{ op: 'remove', path: `members[value eq "${user}"]` }] });
    else if (roll < 0.95)
      res = await call(`${s}/Groups/${group}`, 'PATCH', t, {
        schemas: [PATCH],
        Operations: [{ op: 'replace', path: 'displayName', value: `${this.prefix}g${this.n++}` }],
      });
    else {
      res = await call(`${s}/Groups/${group}`, 'DELETE', t);
      this.groups = this.groups.filter((id) => id !== group);
    }
    expect([200, 204]).toContain(res.status);
  }
}

describe.each(STORE_KINDS)('GET /api/snapshot (%s store)', (kind) => {
  let edge: TestEdge;
  const snapshot = (query: string, token?: string) => call(`${edge.url}${BRIDGE_PATHS.snapshot}${query}`, 'GET', token ?? edge.tokens.read!);

  beforeAll(async () => {
    edge = await startEdge({ store: kind, scopedTokens: true, logLevel: false });
  });
  afterAll(() => edge.stop());

  it('writes between and during the pages still converge: snapshot, then the feed from its cursor, equals the directory', async () => {
    const provider = new Provider(edge, random(kind === 'sqlite' ? 7 : 11), 'a-');
    const concurrent = new Provider(edge, random(kind === 'sqlite' ? 13 : 17), 'b-');
    for (const p of [provider, concurrent]) {
      for (let i = 0; i < 15; i++) await p.createUser();
      for (let i = 0; i < 3; i++) await p.createGroup(p.users.filter((_, j) => j % (i + 2) === 0));
    }

    const consumer = new FeedConsumer();
    let cursor = '';
    let after: string | undefined;
    let pages = 0;
    // A second writer runs the whole time, so writes also land while a page is being read.
    let paging = true;
    const background = (async () => {
      for (let i = 0; i < 200 && paging; i++) await concurrent.step();
    })();
    for (; pages < 200; pages++) {
      const page = await snapshot(`?count=4${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      after ??= page.body.after;
      expect(page.body.after).toBe(after); // one position for the whole snapshot
      for (const item of page.body.items) consumer.applySnapshotItem(item);
      await provider.step(); // and one write between every two pages
      if (page.body.next === null) break;
      cursor = page.body.next;
    }
    paging = false;
    await background;
    expect(pages).toBeGreaterThan(5);

    // Follow the feed to its end.
    let feed = after!;
    for (let i = 0; i < 500; i++) {
      const res = await call(`${edge.url}${BRIDGE_PATHS.changes}?after=${feed}&limit=7`, 'GET', edge.tokens.read!);
      expect(res.status).toBe(200);
      for (const change of res.body.changes) consumer.applyChange(change);
      if (res.body.changes.length === 0) break;
      feed = res.body.next;
    }
    expect(consumer.applied).toBeGreaterThan(0);
    expect(consumer.view()).toEqual(await directoryView(edge.scim, edge.token));
  });

  it('gives users then groups with their members and versions, in the shape of a change', async () => {
    const first = await snapshot('?count=1000');
    const items = first.body.items as { resource: { type: string; id: string; version: number }; state: Record<string, unknown> }[];
    const groupsAt = items.findIndex((item) => item.resource.type === 'Group');
    // Users first; a page of one kind that ends short goes on with groups on the next page.
    if (first.body.next) {
      const rest = await snapshot(`?count=1000&cursor=${first.body.next}`);
      items.push(...rest.body.items);
    }
    const types = items.map((item) => item.resource.type);
    expect(types).toEqual([...types].sort((a, b) => (a === b ? 0 : a === 'User' ? -1 : 1)));
    expect(groupsAt === -1 || groupsAt > 0).toBe(true);
    const group = items.find((item) => item.resource.type === 'Group' && Array.isArray(item.state.members) && (item.state.members as unknown[]).length > 0)!;
    expect(group.state).toMatchObject({
      id: group.resource.id,
      meta: { resourceType: 'Group', version: `W/"${group.resource.version}"`, location: `/scim/v2/Groups/${group.resource.id}` },
    });
    expect(first.body.position).toBe(await edge.store.headPosition());
    expect(first.body.after).toBe(feedCursor({ directory: 'default', position: first.body.position }));
    expect(MEMBERS_PER_SNAPSHOT_PAGE).toBeGreaterThanOrEqual(1000);
  });

  it('a snapshot paged for longer than the log is kept answers 410: start again', async () => {
    const first = await snapshot('?count=1');
    expect(first.body.next).toEqual(expect.any(String));
    await call(`${edge.scim}/Users`, 'POST', edge.token, { userName: 'late@example.com' });
    await call(`${edge.scim}/Users`, 'POST', edge.token, { userName: 'later@example.com' });
    // Retention prunes everything before the newest change, so a change after the snapshot's position is gone.
    await edge.store.pruneChanges(new Date(Date.now() + 60_000).toISOString(), await edge.store.headPosition());
    const gone = await snapshot(`?count=1&cursor=${first.body.next}`);
    expect(gone.status).toBe(410);
    expect(gone.body.detail).toContain('This snapshot is older than the oldest change the bridge keeps');
    const again = await snapshot('?count=1');
    expect(again.status).toBe(200);
    expect(again.body.position).toBeGreaterThan(first.body.position);
  });

  it('is for read tokens only, and refuses a cursor it did not give out', async () => {
    expect((await snapshot('', edge.token)).status).toBe(403);
    expect((await snapshot('', edge.tokens.operate)).status).toBe(403);
    const feedAsSnapshot = await snapshot(`?cursor=${feedCursor({ directory: 'default', position: 1 })}`);
    expect(feedAsSnapshot.status).toBe(400);
    expect(feedAsSnapshot.body).toMatchObject({ schemas: [ERROR], scimType: 'invalidValue' });
    expect(feedAsSnapshot.body.detail).toContain('"cursor" is not a cursor this bridge gave out');
    expect((await snapshot('?count=0')).status).toBe(400);
  });
});
