/**
 * A lease in the store gives a periodic job (the Google Workspace sync) to exactly one replica. Two processes
 * race for it on one PostgreSQL database; each, while holding it, increments a shared counter without any
 * other locking. Had both held it at once, increments would be lost.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PostgresStore } from '../../bridge/src/store/postgres';
import { describePostgres, freshDatabase } from '../support/postgres';

const run = promisify(execFile);
const WORKER = join(__dirname, 'lease-worker.ts');
const ROOT = join(__dirname, '..', '..');

describePostgres('a lease shared by two processes on PostgreSQL', () => {
  it('is held by one process at a time: no increment of the shared counter is lost', async () => {
    const url = await freshDatabase();
    const setup = await PostgresStore.connect(url, {});
    await setup.migrate();
    const rounds = 60;
    const worker = (holder: string) =>
      run(process.execPath, ['--import', 'tsx', WORKER], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, LEASE_URL: url, LEASE_HOLDER: holder, LEASE_ROUNDS: String(rounds) },
        timeout: 50_000,
      });
    const results = (await Promise.all([worker('replica-a'), worker('replica-b')])).map((r) => JSON.parse(r.stdout.trim()));
    expect(results.map((r) => r.increments)).toEqual([rounds, rounds]);
    expect(Number(await setup.getState('counter'))).toBe(2 * rounds);
    // Nobody holds it after both released it.
    expect(await setup.tryAcquireLease('counter', 'checker', 1000)).toBe(true);
    await setup.close();
  });
});
