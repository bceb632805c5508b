/**
 * The pull API on both stores, over real HTTP: `GET /api/changes` pages the change log in position order as the
 * same documents the webhooks send; `wait` long-polls (woken by a commit in this process, or by polling for
 * another replica's), in a bounded pool that never holds a store connection and never delays a shutdown; cursors
 * are checked (400 malformed, 410 pruned).
 */
import { BRIDGE_PATHS } from '../../contract';
import { feedCursor } from '../../bridge/src/feed/cursor';
import { changeDocument } from '../../bridge/src/feed/types';
import { STORE_KINDS } from '../support/bridge';
import { type TestEdge, startEdge } from '../support/edge';
import { call } from '../support/call';

const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** Polls the status API until `ready` holds for its limits (bounded: 200 looks, 10 ms apart at most 2 s). */
async function untilLimits(edge: TestEdge, ready: (limits: Record<string, number>) => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const status = await call(`${edge.url}/api/status`, 'GET', edge.token);
    if (ready(status.body.limits)) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the status API never showed the expected limits');
}

describe.each(STORE_KINDS)('GET /api/changes (%s store)', (kind) => {
  let edge: TestEdge;
  const changes = (query = '', token?: string) => call(`${edge.url}${BRIDGE_PATHS.changes}${query}`, 'GET', token ?? edge.tokens.read);
  const createUser = async (userName: string) => (await call(`${edge.scim}/Users`, 'POST', edge.token, { userName })).body;

  beforeAll(async () => {
    // A poll interval longer than any test: only a commit in this process can wake a long-poll here.
    edge = await startEdge({ store: kind, scopedTokens: true, logLevel: false, feedPollMs: 60_000, maxFeedWaiters: 2 });
  });
  afterAll(() => edge.stop());

  it('answers every change in position order as Standard Webhooks documents, the same as the log holds, and pages by cursor', async () => {
    const ada = await createUser('ada@example.com');
    const group = (await call(`${edge.scim}/Groups`, 'POST', edge.token, { displayName: 'Engineering', members: [{ value: ada.id }] })).body;
    await call(`${edge.scim}/Users/${ada.id}`, 'PATCH', edge.token, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] });
    await call(`${edge.scim}/Groups/${group.id}`, 'DELETE', edge.token);

    const all = await changes();
    expect(all.status).toBe(200);
    expect(all.headers.get('content-type')).toContain('application/json');
    const logged = await edge.store.readChanges(0, 1000);
    expect(all.body.changes).toEqual(logged.map(changeDocument));
    expect(all.body.next).toBe(feedCursor({ directory: 'default', position: logged.at(-1)!.position }));
    const types = all.body.changes.map((c: { type: string }) => c.type);
    expect(types[0]).toBe('user.created');
    expect(types).toEqual(expect.arrayContaining(['group.created', 'user.suspended', 'group.deleted']));
    const positions = all.body.changes.map((c: { data: { position: number } }) => c.data.position);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(all.body.changes[0]).toMatchObject({
      id: `chg_default_${positions[0]}`,
      type: 'user.created',
      timestamp: expect.any(String),
      data: { position: positions[0], resource: { type: 'User', id: ada.id, version: 1 }, state: { userName: 'ada@example.com' } },
    });

    // limit=1 pages through the same sequence, one cursor at a time.
    const paged: unknown[] = [];
    let after = '';
    for (let i = 0; i < 50; i++) {
      const page = await changes(`?limit=1${after ? `&after=${after}` : ''}`);
      if (page.body.changes.length === 0) {
        expect(page.body.next).toBe(after); // nothing new: the same cursor back
        break;
      }
      paged.push(...page.body.changes);
      after = page.body.next;
    }
    expect(paged).toEqual(all.body.changes);
  });

  it('is for read tokens only', async () => {
    for (const [token, status] of [
      [edge.token, 403],
      [edge.tokens.operate, 403],
      [undefined, 401],
      ['scimb_wrong', 401],
    ] as const) {
      const res = await changes('', token ?? '');
      expect(res.status).toBe(status);
      expect(res.body.schemas).toEqual([ERROR]);
    }
    expect((await changes('', edge.token)).body.detail).toContain('it needs a read token');
  });

  it.each([
    ['a cursor that is no base64url JSON', '?after=not-a-cursor', '"after" is not a cursor this bridge gave out'],
    ['a negative position', `?after=${Buffer.from('{"d":"default","p":-1}').toString('base64url')}`, '"after" is not a cursor'],
    ['another directory', `?after=${Buffer.from('{"d":"other","p":1}').toString('base64url')}`, '"after" is not a cursor'],
    ['a 2,000-character cursor', `?after=${'A'.repeat(2000)}`, '"after" is not a cursor'],
    ['limit=0', '?limit=0', '"limit" must be a whole number of at least 1 (got "0")'],
    ['limit=ten', '?limit=ten', '"limit" must be a whole number'],
    ['wait=-1', '?wait=-1', '"wait" must be a whole number'],
    ['wait=1.5', '?wait=1.5', '"wait" must be a whole number'],
  ])('refuses %s with 400 and says why', async (_label, query, detail) => {
    const res = await changes(query);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ schemas: [ERROR], scimType: 'invalidValue' });
    expect(res.body.detail).toContain(detail);
  });

  it('tells a reader whose cursor is behind the retained log to resync from the snapshot (410)', async () => {
    await createUser('pruned-1@example.com');
    await createUser('pruned-2@example.com');
    const head = await edge.store.headPosition();
    const old = feedCursor({ directory: 'default', position: 1 });
    expect((await changes(`?after=${old}`)).status).toBe(200);
    await edge.store.pruneChanges(new Date(Date.now() + 60_000).toISOString(), head);
    const gone = await changes(`?after=${old}`);
    expect(gone.status).toBe(410);
    expect(gone.body.schemas).toEqual([ERROR]);
    expect(gone.body.detail).toContain(`Resync: read ${BRIDGE_PATHS.snapshot}`);
    // Without a cursor the feed starts at the oldest change kept.
    const fresh = await changes();
    expect(fresh.body.changes[0].data.position).toBe(head);
  });

  it('long-polls: answers as soon as a change commits, and empty at the end of the wait', async () => {
    const { next } = (await changes()).body;
    const started = Date.now();
    const polled = changes(`?after=${next}&wait=20`);
    await untilLimits(edge, (limits) => limits.feedWaiting === 1);
    const bob = await createUser('bob@example.com');
    const answer = await polled;
    expect(answer.status).toBe(200);
    expect(answer.body.changes.map((c: { data: { resource: { id: string } } }) => c.data.resource.id)).toEqual([bob.id]);
    expect(Date.now() - started).toBeLessThan(15_000); // woken by the commit, not by the 60 s poll or the 20 s wait

    const quiet = await changes(`?after=${answer.body.next}&wait=1`);
    expect(quiet.body).toEqual({ changes: [], next: answer.body.next });
    await untilLimits(edge, (limits) => limits.feedWaiting === 0);
  });

  it('waits in a bounded pool: past it 429 with Retry-After, while SCIM keeps answering', async () => {
    const { next } = (await changes()).body;
    const waiting = [changes(`?after=${next}&wait=25`), changes(`?after=${next}&wait=25`)];
    await untilLimits(edge, (limits) => limits.feedWaiting === 2 && limits.maxFeedWaiters === 2);
    const refused = await changes(`?after=${next}&wait=25`);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    // A poll that finds changes needs no slot.
    expect((await changes('?wait=25')).body.changes.length).toBeGreaterThan(0);
    expect((await call(`${edge.scim}/Users?count=1`, 'GET', edge.token)).status).toBe(200);
    await createUser('dave@example.com'); // wakes both
    expect((await Promise.all(waiting)).map((a) => [a.status, a.body.changes.length])).toEqual([
      [200, 1],
      [200, 1],
    ]);
  });
});

describe('a shutdown while long-polls wait', () => {
  it('answers them at once (empty), and close() does not wait for their wait to end', async () => {
    const edge = await startEdge({ scopedTokens: true, logLevel: false, feedPollMs: 60_000 });
    try {
      const waiting = [1, 2].map(() => call(`${edge.url}${BRIDGE_PATHS.changes}?wait=25`, 'GET', edge.tokens.read));
      await untilLimits(edge, (limits) => limits.feedWaiting === 2);
      const stopping = Date.now();
      // What the server does on SIGTERM (server.ts): close() first, which lets requests in flight finish.
      const closed = edge.app.close();
      const answers = await Promise.all(waiting);
      expect(answers.map((a) => [a.status, a.body.changes, a.headers.get('connection')])).toEqual([
        [200, [], 'close'],
        [200, [], 'close'],
      ]);
      await closed;
      expect(Date.now() - stopping).toBeLessThan(10_000);
    } finally {
      await edge.store.close();
    }
  });
});

describe('long-polls outlive the request timeout', () => {
  it('a wait longer than requestMs is answered, not cut', async () => {
    const edge = await startEdge({ scopedTokens: true, logLevel: false, timeouts: { requestMs: 500, headersMs: 500, checkEveryMs: 100 } });
    try {
      const res = await call(`${edge.url}${BRIDGE_PATHS.changes}?wait=2`, 'GET', edge.tokens.read);
      expect(res.status).toBe(200);
      expect(res.body.changes).toEqual([]);
    } finally {
      await edge.stop();
    }
  });
});

if (STORE_KINDS.includes('postgres')) {
  describe('waiting long-polls hold no database connection (PostgreSQL)', () => {
    it('more polls wait than the pool has connections, and SCIM writes still go through at once', async () => {
      const edge = await startEdge({ store: 'postgres', scopedTokens: true, logLevel: false, feedPollMs: 60_000, maxFeedWaiters: 12 });
      try {
        const { next } = (await call(`${edge.url}${BRIDGE_PATHS.changes}`, 'GET', edge.tokens.read)).body;
        // 12 waiting polls against a pool of BRIDGE_SIZING.databasePoolSize (5) connections.
        const waiting = Array.from({ length: 12 }, () => call(`${edge.url}${BRIDGE_PATHS.changes}?after=${next}&wait=25`, 'GET', edge.tokens.read));
        await untilLimits(edge, (limits) => limits.feedWaiting === 12);
        const created = await call(`${edge.scim}/Users`, 'POST', edge.token, { userName: 'erin@example.com' });
        expect(created.status).toBe(201);
        const answers = await Promise.all(waiting);
        expect(answers.every((a) => a.status === 200 && a.body.changes[0]?.data.resource.id === created.body.id)).toBe(true);
      } finally {
        await edge.stop();
      }
    });
  });

  describe('a change committed by another replica (PostgreSQL)', () => {
    it('wakes a long-poll on this replica by polling', async () => {
      const reader = await startEdge({ store: 'postgres', scopedTokens: true, logLevel: false, feedPollMs: 100 });
      const writer = await startEdge({ databaseUrl: reader.databaseUrl, logLevel: false });
      try {
        const { next } = (await call(`${reader.url}${BRIDGE_PATHS.changes}`, 'GET', reader.tokens.read)).body;
        const polled = call(`${reader.url}${BRIDGE_PATHS.changes}?after=${next}&wait=20`, 'GET', reader.tokens.read);
        await untilLimits(reader, (limits) => limits.feedWaiting === 1);
        const carol = (await call(`${writer.scim}/Users`, 'POST', writer.token, { userName: 'carol@example.com' })).body;
        const answer = await polled;
        expect(answer.body.changes.map((c: { data: { resource: { id: string } } }) => c.data.resource.id)).toEqual([carol.id]);
      } finally {
        await writer.stop();
        await reader.stop();
      }
    });
  });
}
