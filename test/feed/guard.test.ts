/** The guard's rules on their own: settings, what deprovisions, thresholds at their edges, net effect, settling. */
import { BRIDGE_ENV } from '../../contract';
import { ConfigError } from '../../bridge/src/config';
import {
  GUARD_DEFAULTS,
  type GuardSettings,
  PERCENT_MIN_PEOPLE,
  deprovisionedSubjects,
  guardEnabled,
  netEffect,
  netEffectInOrder,
  readGuardSettings,
  thresholdCrossed,
} from '../../bridge/src/feed/guard';
import { promotable } from '../../bridge/src/feed/promoter';
import type { ChangeInput, ChangeType } from '../../bridge/src/feed/types';

const user = (type: ChangeType, version: number, state: Record<string, unknown> = {}, changed?: string[]): ChangeInput => ({
  type,
  resource: { type: 'User', id: 'u1', version },
  actor: 'Microsoft Azure AD Scim Client',
  state: { userName: 'ada@example.com', active: type !== 'user.suspended', meta: { version: `W/"${version}"` }, ...state },
  ...(changed ? { changed } : {}),
});

const members = (type: 'group.members.added' | 'group.members.removed', version: number, ids: string[], group = 'g1'): ChangeInput => ({
  type,
  resource: { type: 'Group', id: group, version },
  actor: 'okta',
  state: { displayName: 'Staff' },
  members: ids,
});

describe('settings', () => {
  it('defaults to 50 people or 10 % within 15 minutes, settling 60 s', () => {
    expect(readGuardSettings({})).toEqual({ holdCount: 50, holdPercent: 10, windowSeconds: 900, settleSeconds: 60 });
    expect(guardEnabled(GUARD_DEFAULTS)).toBe(true);
  });

  it('reads each from its name, and 0 turns it off', () => {
    const env = {
      [BRIDGE_ENV.deprovisionHoldCount]: '0',
      [BRIDGE_ENV.deprovisionHoldPercent]: '0',
      [BRIDGE_ENV.deprovisionHoldWindowSeconds]: '60',
      [BRIDGE_ENV.deprovisionSettleSeconds]: '0',
    };
    const settings = readGuardSettings(env);
    expect(settings).toEqual({ holdCount: 0, holdPercent: 0, windowSeconds: 60, settleSeconds: 0 });
    expect(guardEnabled(settings)).toBe(false);
    expect(guardEnabled({ ...GUARD_DEFAULTS, windowSeconds: 0 })).toBe(false);
  });

  it.each(['-1', '1.5', 'ten', '101'])('refuses %s as a percent with a line that names the setting', (raw) => {
    expect(() => readGuardSettings({ [BRIDGE_ENV.deprovisionHoldPercent]: raw })).toThrow(ConfigError);
    expect(() => readGuardSettings({ [BRIDGE_ENV.deprovisionHoldPercent]: raw })).toThrow(BRIDGE_ENV.deprovisionHoldPercent);
  });
});

describe('what deprovisions', () => {
  const grants = new Set(['g1']);
  it('names the user a suspension or a deletion deprovisions', () => {
    expect(deprovisionedSubjects(user('user.suspended', 2), grants)).toEqual(['u1']);
    expect(deprovisionedSubjects({ ...user('user.deleted', 3), state: undefined }, grants)).toEqual(['u1']);
    expect(deprovisionedSubjects(user('user.updated', 2), grants)).toEqual([]);
    expect(deprovisionedSubjects(user('user.reactivated', 2), grants)).toEqual([]);
  });

  it('names the members removed from a group that grants access, and nobody for other groups', () => {
    expect(deprovisionedSubjects(members('group.members.removed', 2, ['a', 'b', 'c']), grants)).toEqual(['a', 'b', 'c']);
    expect(deprovisionedSubjects(members('group.members.removed', 2, ['a', 'b', 'c'], 'g2'), grants)).toEqual([]);
    expect(deprovisionedSubjects(members('group.members.added', 2, ['a']), grants)).toEqual([]);
    expect(deprovisionedSubjects({ type: 'group.deleted', resource: { type: 'Group', id: 'g1', version: 3 }, actor: 'okta' }, grants)).toEqual(['Group:g1']);
  });
});

describe('thresholds', () => {
  const countOnly: GuardSettings = { ...GUARD_DEFAULTS, holdPercent: 0 };
  const percentOnly: GuardSettings = { ...GUARD_DEFAULTS, holdCount: 0 };

  it('holds at more than the count, not at it', () => {
    expect(thresholdCrossed(50, 100_000, countOnly)).toBeUndefined();
    expect(thresholdCrossed(51, 100_000, countOnly)).toMatch(/51 people .* more than 50/);
  });

  it('holds at more than the percent of the users active before the burst, not at it', () => {
    // 100 of 1,000 (900 still active) is exactly 10 %.
    expect(thresholdCrossed(100, 900, percentOnly)).toBeUndefined();
    expect(thresholdCrossed(101, 900, percentOnly)).toMatch(/more than 10 % of 1001/);
  });

  it(`needs ${PERCENT_MIN_PEOPLE} people before the percent counts, so one departure in a small team flows`, () => {
    expect(thresholdCrossed(PERCENT_MIN_PEOPLE - 1, 3, percentOnly)).toBeUndefined();
    expect(thresholdCrossed(PERCENT_MIN_PEOPLE, 3, percentOnly)).toBeDefined();
  });

  it('holds nothing when both are off', () => {
    expect(thresholdCrossed(10_000, 1, { ...GUARD_DEFAULTS, holdCount: 0, holdPercent: 0 })).toBeUndefined();
  });
});

describe('net effect', () => {
  it('cancels a suspension undone by a reactivation', () => {
    expect(netEffect([user('user.suspended', 2, {}, ['active']), user('user.reactivated', 3, {}, ['active'])])).toEqual([]);
  });

  it('keeps a suspension that stands, as one change at the last version', () => {
    const net = netEffect([user('user.suspended', 2), user('user.reactivated', 3), user('user.suspended', 4)]);
    expect(net.map((c) => [c.type, c.resource.version])).toEqual([['user.suspended', 4]]);
  });

  it('turns a suspension, a rename and a reactivation into one update', () => {
    const net = netEffect([
      user('user.suspended', 2, {}, ['active']),
      user('user.updated', 3, { active: false, userName: 'ada.l@example.com' }, ['userName']),
      user('user.reactivated', 4, { userName: 'ada.l@example.com' }, ['active']),
    ]);
    expect(net).toHaveLength(1);
    expect(net[0]).toMatchObject({
      type: 'user.updated',
      resource: { version: 4 },
      changed: ['userName'],
      state: { userName: 'ada.l@example.com', active: true },
    });
  });

  it('keeps a deletion a deletion', () => {
    const deleted = { ...user('user.deleted', 3), state: undefined };
    expect(netEffect([user('user.suspended', 2), deleted])).toEqual([deleted]);
  });

  it('cancels members removed and added back, and keeps the rest removed', () => {
    expect(netEffect([members('group.members.removed', 2, ['a', 'b']), members('group.members.added', 3, ['b', 'a'])])).toEqual([]);
    const net = netEffect([members('group.members.removed', 2, ['a', 'b', 'c']), members('group.members.added', 3, ['a'])]);
    expect(net.map((c) => [c.type, c.resource.version, c.members])).toEqual([['group.members.removed', 3, ['b', 'c']]]);
  });

  it('keeps versions growing when a group was renamed and emptied', () => {
    const renamed: ChangeInput = {
      type: 'group.updated',
      resource: { type: 'Group', id: 'g1', version: 2 },
      actor: 'okta',
      state: { displayName: 'All' },
      changed: ['displayName'],
    };
    const net = netEffect([renamed, members('group.members.removed', 3, ['a']), members('group.members.removed', 4, ['b'])]);
    expect(net.map((c) => [c.type, c.resource.version])).toEqual([
      ['group.updated', 3],
      ['group.members.removed', 4],
    ]);
  });

  it('orders many resources as they were held, each at its last places', () => {
    const other = (v: number): ChangeInput => ({ ...user('user.suspended', v), resource: { type: 'User', id: 'u2', version: v } });
    const rows = [
      { seq: 1, change: user('user.suspended', 2) },
      { seq: 2, change: other(5) },
      { seq: 3, change: user('user.reactivated', 3) },
      { seq: 4, change: members('group.members.removed', 7, ['u2']) },
    ];
    expect(netEffectInOrder(rows).map((c) => `${c.resource.id}@${c.resource.version}`)).toEqual(['u2@5', 'g1@7']);
  });
});

describe('settling', () => {
  const at = (ms: number) => new Date(ms).toISOString();
  const row = (ms: number, change: ChangeInput, people: number) => ({ at: at(ms), people, change });
  const now = 1_000_000_000_000;

  it('delivers a deprovisioning change once it waited the settle time exactly, not a millisecond before', () => {
    expect(promotable([row(now - 60_000, user('user.suspended', 2), 1)], now, 60)).toHaveLength(1);
    expect(promotable([row(now - 59_999, user('user.suspended', 2), 1)], now, 60)).toHaveLength(0);
  });

  it('keeps what waits behind a settling change, and lets other resources go', () => {
    const other: ChangeInput = { ...user('user.updated', 9), resource: { type: 'User', id: 'u2', version: 9 } };
    const rows = [row(now - 1000, user('user.suspended', 2), 1), row(now, user('user.updated', 3), 0), row(now, other, 0)];
    expect(promotable(rows, now, 60).map((r) => r.change.resource.id)).toEqual(['u2']);
    expect(promotable(rows, now + 59_000, 60)).toHaveLength(3);
  });
});
