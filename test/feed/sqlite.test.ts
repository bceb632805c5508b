import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../bridge/src/store/sqlite';
import { describeChangeLogContract } from './contract';

describe('SQLite change log', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scim-feed-'));
  let n = 0;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describeChangeLogContract(async () => SqliteStore.open(join(dir, `feed-${++n}.db`)));
});
