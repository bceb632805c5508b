import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../bridge/src/store/sqlite';
import { describeStoreContract, user } from './contract';

describe('SQLite store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scim-sqlite-'));
  let n = 0;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describeStoreContract(async () => SqliteStore.open(join(dir, `store-${++n}.db`)));

  it('keeps what was committed in the file across a reopen', async () => {
    const path = join(dir, 'durable.db');
    const first = SqliteStore.open(path);
    await first.migrate();
    const ada = user('ada@example.com');
    await first.transaction((tx) => tx.insertUser(ada));
    await first.close();
    const second = SqliteStore.open(path);
    await second.migrate();
    expect((await second.getUser(ada.id))?.userName).toBe('ada@example.com');
    await second.close();
  });
});
