/**
 * A Google Workspace group emptied by mistake: `scim-bridge sync google --dry-run` shows the plan first and changes
 * nothing; the sync then suspends everyone in the directory, the feed holds the burst while a new hire still
 * flows, and restoring the group before the release leaves the application with no net change.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { grantAccessCommand, holdsCommand } from '../../bridge/src/cli/holds';
import { syncCommand } from '../../bridge/src/cli/sync';
import { readGuardSettings } from '../../bridge/src/feed/guard';
import { promoteOnce } from '../../bridge/src/feed/promoter';
import type { Change } from '../../bridge/src/feed/types';
import { openStore } from '../../bridge/src/store/open';
import type { Store } from '../../bridge/src/store/types';
import { STORE_KINDS } from '../support/bridge';
import { feedOf } from './guard-support';
import { type FakeGoogle, startFakeGoogle } from '../support/fake-google';
import { freshDatabase } from '../support/postgres';

const STAFF = 'staff@example.com';
const HIRES = 'new-hires@example.com';
const PEOPLE = 60;

describe.each(STORE_KINDS)('Google Workspace sync through the deprovisioning guard (%s store)', (kind) => {
  let google: FakeGoogle;
  let dir: string;
  let env: Record<string, string>;
  let store: Store;
  const saved = process.env.SCIM_DATABASE_URL;

  beforeEach(async () => {
    google = await startFakeGoogle();
    dir = mkdtempSync(join(tmpdir(), 'scim-guard-google-'));
    const databaseUrl = kind === 'postgres' ? await freshDatabase() : `sqlite:${join(dir, 'bridge.db')}`;
    env = { ...google.env([STAFF, HIRES]), SCIM_DATABASE_URL: databaseUrl, SCIM_DEPROVISION_SETTLE_SECONDS: '60' };
    // The holds and grant-access commands read the bridge's settings from the environment, as an operator runs them.
    process.env.SCIM_DATABASE_URL = databaseUrl;
    google.addGroup(STAFF, 'Staff');
    google.addGroup(HIRES, 'New hires');
    for (let i = 0; i < PEOPLE; i++) google.addMember(STAFF, google.addUser(`person${String(i).padStart(2, '0')}.staff`).primaryEmail);
    store = await openStore(databaseUrl);
  });
  afterEach(async () => {
    await store.close();
    await google.close();
    rmSync(dir, { recursive: true, force: true });
    if (saved === undefined) delete process.env.SCIM_DATABASE_URL;
    else process.env.SCIM_DATABASE_URL = saved;
  });

  const run = async (command: (args: string[], out: (line: string) => void) => Promise<void>, args: string[]) => {
    const lines: string[] = [];
    await command(args, (line) => lines.push(line));
    return lines;
  };
  const sync = (args: string[] = []) => run((a, out) => syncCommand(a, out, env), ['google', ...args]);
  const feed = (): Promise<Change[]> => feedOf(store);
  const activeUsers = async () => (await store.counts()).usersActive;

  it('prints the plan of an emptied group and changes nothing', async () => {
    await sync();
    expect(await activeUsers()).toBe(PEOPLE);
    google.groups.get(STAFF)!.members = [];
    google.addMember(HIRES, google.addUser('ada.hire').primaryEmail);

    const plan = await sync(['--dry-run']);
    expect(plan).toContain('create user ada.hire@example.com');
    expect(plan.filter((line) => /^suspend user person\d\d\.staff@example\.com \(no longer in a selected group\)$/.test(line))).toHaveLength(PEOPLE);
    expect(plan.find((line) => line.startsWith('remove from group Staff: '))?.split(', ')).toHaveLength(PEOPLE);
    expect(plan.at(-1)).toBe(
      `Dry run, nothing changed: would create 1, update 0, reactivate 0 and suspend ${PEOPLE} users; create 0 and update 2 groups, adding 1 and removing ${PEOPLE} members.`,
    );
    expect(await activeUsers()).toBe(PEOPLE);
    expect((await store.queryUsers({ startIndex: 1, count: 100 })).items.map((u) => u.userName)).not.toContain('ada.hire@example.com');
  });

  it('holds the suspensions of an emptied group, lets a new hire through, and delivers no net change once the group is restored', async () => {
    await sync();
    const staff = (await store.queryGroups({ startIndex: 1, count: 100 })).items.find((g) => g.displayName === 'Staff')!;
    await run(grantAccessCommand, [staff.id]);
    const settings = readGuardSettings(env);
    // Whatever the first sync appended (creates) is in the feed at once; nothing waits.
    await promoteOnce(store, settings, Date.now());
    const before = (await feed()).length;

    const members = google.groups.get(STAFF)!.members;
    google.groups.get(STAFF)!.members = [];
    google.addMember(HIRES, google.addUser('ada.hire').primaryEmail);
    await sync();
    expect(await activeUsers()).toBe(1); // the directory mirrors Google: everyone else is suspended
    const { started } = await promoteOnce(store, settings, Date.now());
    expect(started).toEqual([expect.objectContaining({ actor: 'google-workspace', people: PEOPLE })]);
    const during = (await feed()).slice(before);
    expect(during.filter((c) => c.type === 'user.created').map((c) => c.state?.userName)).toEqual(['ada.hire@example.com']);
    expect(during.filter((c) => c.type === 'user.suspended' || c.type === 'group.members.removed')).toEqual([]);
    expect(during.filter((c) => c.type === 'hold.started')).toHaveLength(1);
    const listed = await run(holdsCommand, ['list']);
    expect(listed[1].split('\t').slice(0, 5)).toEqual([String(started[0].id), 'active', expect.any(String), 'google-workspace', String(PEOPLE)]);

    // The administrator restores the group; the next sync reactivates everyone, behind the hold.
    google.groups.get(STAFF)!.members = members;
    await sync();
    expect(await activeUsers()).toBe(PEOPLE + 1);
    await promoteOnce(store, settings, Date.now() + 120_000);
    const released = await run(holdsCommand, ['release', String(started[0].id)]);
    expect(released).toEqual([
      expect.stringMatching(new RegExp(`^Released hold ${started[0].id}: \\d+ held changes reached the feed as 0 \\(their net effect\\)\\.$`)),
    ]);
    expect((await feed()).slice(before).filter((c) => c.type !== 'user.created' && c.type !== 'hold.started' && c.type !== 'group.members.added')).toEqual([]);
  });
});
