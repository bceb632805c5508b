/**
 * Responses bounded in bytes, on both stores: a group's members lose their display names past a bound, a page of
 * groups ends at a whole group within the page's member bound, and any page ends at a whole resource within
 * MAX_PAGE_BYTES; `itemsPerPage` says where the next page starts, so a client paging by it skips no one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_PAGE_BYTES } from '../../bridge/src/http/list-page';
import { MAX_MEMBER_DISPLAY, MAX_PAGE_MEMBERS, MEMBER_DISPLAY_BUDGET } from '../../bridge/src/store/group-page';
import { STORE_KINDS, type TestBridge, startBridge } from '../support/bridge';
import { freshDatabase } from '../support/postgres';
import { seedDirectory } from '../support/seed';

async function seeded(store: 'sqlite' | 'postgres', dir: string, name: string, options: Parameters<typeof seedDirectory>[1]): Promise<TestBridge> {
  const databaseUrl = store === 'postgres' ? await freshDatabase() : `sqlite:${join(dir, `${name}.db`)}`;
  await seedDirectory(databaseUrl, options);
  return startBridge({ store, env: { SCIM_DATABASE_URL: databaseUrl } });
}

/** Every resource id, paging by `itemsPerPage` as RFC 7644 §3.4.2.4 says (bounded: at most 50 pages). */
async function pageThrough(bridge: TestBridge, path: string, count: number): Promise<{ ids: string[]; total: number; pages: number[]; bytes: number[] }> {
  const ids: string[] = [];
  const pages: number[] = [];
  const bytes: number[] = [];
  let total = 0;
  for (let start = 1, page = 0; page < 50; page++) {
    const res = await fetch(`${bridge.scim}${path}${path.includes('?') ? '&' : '?'}startIndex=${start}&count=${count}`, {
      headers: { authorization: `Bearer ${bridge.token}` },
    });
    const text = await res.text();
    expect(res.status).toBe(200);
    const body = JSON.parse(text);
    total = body.totalResults;
    expect(body.itemsPerPage).toBe(body.Resources.length);
    expect(body.startIndex).toBe(start);
    ids.push(...body.Resources.map((r: { id: string }) => r.id));
    pages.push(body.itemsPerPage);
    bytes.push(Buffer.byteLength(text));
    if (!body.itemsPerPage) break;
    start += body.itemsPerPage;
    if (start > total) break;
  }
  return { ids, total, pages, bytes };
}

describe.each(STORE_KINDS)('responses bounded in bytes (%s)', (store) => {
  let dir: string;
  const bridges: TestBridge[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'scim-bounded-responses-'));
  });
  afterAll(async () => {
    await Promise.all(bridges.map((b) => b.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("renders a group's members without display names past the display bound", async () => {
    // 5,000 members with 250-character names: 1.25 M characters, past the group's display budget.
    const users = 5000;
    const bridge = await seeded(store, dir, 'display', { users, groups: 1, displayNameLength: 250 });
    bridges.push(bridge);
    const res = await bridge.request('GET', '/Groups/g1');
    expect(res.status).toBe(200);
    const members = res.body.members as { value: string; display?: string }[];
    expect(members).toHaveLength(users);
    const named = members.filter((m) => m.display !== undefined);
    expect(named.length).toBeGreaterThan(0);
    expect(named.length).toBeLessThan(users);
    expect(named.reduce((n, m) => n + m.display!.length, 0)).toBeLessThanOrEqual(MEMBER_DISPLAY_BUDGET);
    // Those with names come first in member order; every member is still identified.
    expect(members.slice(0, named.length).every((m) => m.display !== undefined)).toBe(true);
    expect(members.every((m) => typeof m.value === 'string' && m.value.startsWith('u'))).toBe(true);
  }, 60_000);

  it('lists a member whose display name is longer than the bound without it', async () => {
    const bridge = await startBridge({ store });
    bridges.push(bridge);
    const long = await bridge.request('POST', '/Users', { userName: 'long@example.com', displayName: 'L'.repeat(MAX_MEMBER_DISPLAY + 1) });
    const short = await bridge.request('POST', '/Users', { userName: 'short@example.com', displayName: 'Short Name' });
    const group = await bridge.request('POST', '/Groups', { displayName: 'Mixed', members: [{ value: long.body.id }, { value: short.body.id }] });
    expect(group.status).toBe(201);
    for (const body of [
      group.body,
      (await bridge.request('GET', `/Groups/${group.body.id}`)).body,
      (await bridge.request('GET', '/Groups?filter=displayName%20eq%20%22Mixed%22')).body.Resources[0],
    ]) {
      const byId = new Map((body.members as { value: string; display?: string }[]).map((m) => [m.value, m.display]));
      expect(byId.get(long.body.id)).toBeUndefined();
      expect(byId.has(long.body.id)).toBe(true);
      expect(byId.get(short.body.id)).toBe('Short Name');
    }
  });

  it('ends a page of groups at a whole group within the member bound, and paging by itemsPerPage skips no one', async () => {
    // Three groups of 10,000 members each: the first two fill the page's member bound.
    const bridge = await seeded(store, dir, 'groups', { users: 3 * (MAX_PAGE_MEMBERS / 2), groups: 3 });
    bridges.push(bridge);
    const { ids, total, pages } = await pageThrough(bridge, '/Groups', 100);
    expect(pages[0]).toBe(2);
    expect(new Set(ids).size).toBe(total);
    expect(total).toBe(3 + 4); // and the four protected groups
    // Without members, the page is not cut.
    const bare = await bridge.request('GET', '/Groups?count=100&excludedAttributes=members');
    expect(bare.body.itemsPerPage).toBe(7);
  }, 120_000);

  it('ends a page at a whole resource within MAX_PAGE_BYTES', async () => {
    // 1,000 users of about 20 KB each: 20 MB asked for in one page.
    const bridge = await seeded(store, dir, 'pages', { users: 1000, displayNameLength: 20_000 });
    bridges.push(bridge);
    const { ids, total, pages, bytes } = await pageThrough(bridge, '/Users', 1000);
    expect(total).toBe(1000);
    expect(pages[0]).toBeLessThan(1000);
    expect(Math.max(...bytes)).toBeLessThanOrEqual(MAX_PAGE_BYTES + 1024);
    expect(new Set(ids).size).toBe(1000);
  }, 120_000);
});
