import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChangeRetention } from '../../bridge/src/ops/retention';
import { readOpsSettings } from '../../bridge/src/ops/settings';
import { SqliteStore } from '../../bridge/src/store/sqlite';
import { change, readAll } from './contract';

describe('change feed retention', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scim-feed-retention-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prunes changes past the period, never one a subscriber still needs, and keeps a month by default', async () => {
    expect(readOpsSettings({}).changeRetentionDays).toBe(30);
    expect(() => readOpsSettings({ SCIM_CHANGE_RETENTION_DAYS: '-1' })).toThrow(/SCIM_CHANGE_RETENTION_DAYS/);
    const store = SqliteStore.open(join(dir, 'feed.db'));
    await store.migrate();
    await store.transaction((tx) => tx.appendChanges([change('a'), change('b'), change('c')]));
    const [a, b] = await readAll(store);
    const lines: object[] = [];
    const log = { info: (details: object) => lines.push(details), warn: (details: object) => lines.push(details) };
    // 31 days later, a subscriber still at b: a goes, b and c stay.
    const later = () => Date.now() + 31 * 86_400_000;
    await startChangeRetention(store, 30, async () => b.position, log, 3_600_000, later)();
    expect((await readAll(store)).map((c) => c.resource.id)).toEqual(['b', 'c']);
    expect(lines).toEqual([{ deleted: 1, retentionDays: 30 }]);
    // Within the period nothing goes, whatever the subscribers.
    await startChangeRetention(store, 30, async () => Number.MAX_SAFE_INTEGER, log)();
    expect(await store.oldestPosition()).toBe(b.position);
    // 0 keeps everything forever.
    await startChangeRetention(store, 0, async () => Number.MAX_SAFE_INTEGER, log, 3_600_000, later)();
    expect((await readAll(store)).map((c) => c.resource.id)).toEqual(['b', 'c']);
    expect(a.position).toBeLessThan(b.position);
    await store.close();
  });
});
