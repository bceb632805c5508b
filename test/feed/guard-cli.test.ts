/** `scim-bridge holds …`, `groups grant-access` and `sync google` as operators run them: the bundled file, its exit codes and lines. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SqliteStore } from '../../bridge/src/store/sqlite';
import { BUNDLE } from '../support/process';
import { group } from '../store/contract';
import { suspended } from './guard-support';

const run = promisify(execFile);

describe('scim-bridge holds (bundled)', () => {
  let dir: string;
  let env: Record<string, string>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'scim-holds-cli-'));
    env = { PATH: process.env.PATH ?? '', SCIM_DATABASE_URL: `sqlite:${join(dir, 'bridge.db')}` };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [BUNDLE, ...args], { cwd: dir, env });
      return { code: 0, lines: stdout.trim().split('\n'), stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, lines: e.stdout.trim().split('\n'), stderr: e.stderr.trim() };
    }
  };

  it('lists no holds on a new store, as text and as JSON', async () => {
    expect(await cli('holds', 'list')).toMatchObject({ code: 0, lines: ['No holds: every deprovisioning change reached the feed.'] });
    expect(await cli('holds', 'list', '--json')).toMatchObject({ code: 0, lines: ['[]'] });
  });

  it('lists, shows and discards a hold, the id in the first column', async () => {
    const store = SqliteStore.open(join(dir, 'bridge.db'));
    await store.migrate();
    const id = await store.guard.createHold({
      directory: 'default',
      actor: 'Okta SCIM Client 1.0.0',
      startedAt: '2026-12-06T10:00:00.000Z',
      reason: '51 people deprovisioned within 900 s: more than 50',
    });
    await store.guard.insertPending([
      {
        at: '2026-12-06T10:00:00.000Z',
        actor: 'Okta SCIM Client 1.0.0',
        resourceKey: 'User:u1',
        subjects: ['u1'],
        holdId: id,
        state: 'pending',
        change: suspended('u1'),
      },
    ]);
    await store.close();

    const listed = await cli('holds', 'list');
    expect(listed.lines[0].split('\t')).toEqual(['id', 'state', 'started', 'source', 'people', 'changes', 'reason']);
    expect(listed.lines[1].split('\t')).toEqual([
      String(id),
      'active',
      '2026-12-06T10:00:00.000Z',
      'Okta SCIM Client 1.0.0',
      '1',
      '1',
      '51 people deprovisioned within 900 s: more than 50',
    ]);
    expect(JSON.parse((await cli('holds', 'list', '--json')).lines[0])).toEqual([expect.objectContaining({ id, state: 'active', people: 1 })]);
    expect((await cli('holds', 'show', String(id))).lines).toContain('  u1@example.com\tsuspended');

    expect(await cli('holds', 'discard', String(id))).toMatchObject({
      code: 0,
      lines: [`Discarded hold ${id}: 1 held changes will never reach the feed (the directory still has them).`],
    });
    const again = await cli('holds', 'discard', String(id));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`hold ${id} was already discarded by cli`));
  });

  it.each([
    [['holds', 'release'], 2, /holds release needs a hold id/],
    [['holds', 'release', 'abc'], 2, /a hold id is a positive whole number \(got "abc"\)/],
    [['holds', 'release', '424242'], 1, /no hold with id 424242/],
    [['holds', 'pause'], 2, /unknown holds command "pause"/],
    [['groups', 'grant-access', 'no-such-group'], 2, /no group with id no-such-group/],
    [['sync', 'google', '--dry-run'], 2, /Google Workspace is not configured/],
  ])('fails with one clear line for %j', async (args, code, message) => {
    const result = await cli(...args);
    expect(result.code).toBe(code);
    expect(result.stderr.split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
  });

  it('marks and unmarks a group that grants access', async () => {
    const store = SqliteStore.open(join(dir, 'bridge.db'));
    const staff = group('Staff');
    await store.transaction((tx) => tx.insertGroup(staff));
    await store.close();
    expect((await cli('groups', 'grant-access', staff.id)).lines).toEqual(['"Staff" grants access: removals from it count as deprovisioning for the guard.']);
    expect((await cli('groups', 'grant-access')).lines).toEqual([`${staff.id}\tStaff`]);
    expect((await cli('groups', 'grant-access', staff.id, '--off')).code).toBe(0);
    expect((await cli('groups', 'grant-access')).lines[0]).toMatch(/^No group is marked/);
  });
});
