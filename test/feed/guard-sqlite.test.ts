import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../bridge/src/store/sqlite';
import { describeGuardContract } from './guard-contract';

describe('deprovisioning guard on SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scim-guard-'));
  let n = 0;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  describeGuardContract(async () => {
    const path = join(dir, `guard-${++n}.db`);
    return { database: path, open: async () => SqliteStore.open(path) };
  });
});
