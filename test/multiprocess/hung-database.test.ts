/**
 * A database that stops answering without going away (its processes stopped with SIGSTOP: what a network partition
 * that drops packets, or a frozen VM, looks like to the bridge), under load. Nothing is refused by the network, so
 * only the bridge's own bounds help: /health must say 503 within its 2 s bound all the while, every answer must be
 * a success or a 503 with Retry-After (a request waits at most for the 2 s pool wait, or the 15 s query timeout),
 * the process must stay up, and it must serve at once when the database answers again.
 *
 * The freeze lasts 4 s here; `SCIM_TEST_FREEZE_MS=20000` makes it outlast the query timeout (see BENCHMARKS.md).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createSession, serializeSession } from '../../bridge/src/session/scimsession';
import { type BridgeProcess, freePort, spawnBridge } from '../support/process';
import { recordFigures } from '../support/figures';
import { describePostgres, privateCluster } from '../support/postgres';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const FREEZE_MS = Number(process.env.SCIM_TEST_FREEZE_MS ?? 4000);
const { session, token } = createSession();

describePostgres('PostgreSQL that stops answering under load', () => {
  let cluster: ReturnType<typeof privateCluster>;
  let bridge: BridgeProcess;
  let processes: number[] = [];
  beforeAll(async () => {
    cluster = privateCluster(await freePort());
    bridge = await spawnBridge({ SCIM_SESSION: serializeSession(session), SCIM_DATABASE_URL: cluster.url, SCIM_DATABASE_POOL_SIZE: '4' });
  });
  afterAll(async () => {
    // Never leave the cluster stopped, whatever happened.
    if (processes.length) execFileSync('kill', ['-CONT', ...processes.map(String)]);
    bridge?.child.kill('SIGTERM');
    await bridge?.exited;
    cluster?.destroy();
  });

  it('answers /health 503 within its bound, only successes or 503 with Retry-After elsewhere, stays up and serves at once after', async () => {
    type Phase = 'before' | 'frozen' | 'after';
    let phase: Phase = 'before';
    const answers: { phase: Phase; status: number; retryAfter: string | null; ms: number }[] = [];
    const health: { status: number; ms: number }[] = [];
    let running = true;
    let n = 0;
    const lanes = Array.from({ length: 8 }, (_, lane) =>
      (async () => {
        while (running) {
          const at = phase;
          const started = Date.now();
          try {
            const res =
              lane < 5
                ? await fetch(`${bridge.url}/scim/v2/Users`, {
                    method: 'POST',
                    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
                    body: JSON.stringify({ schemas: [USER], userName: `hung-${lane}-${n++}@example.com` }),
                  })
                : await fetch(`${bridge.url}/scim/v2/Users?count=1`, { headers: { authorization: `Bearer ${token}` } });
            await res.arrayBuffer();
            answers.push({ phase: at, status: res.status, retryAfter: res.headers.get('retry-after'), ms: Date.now() - started });
          } catch {
            answers.push({ phase: at, status: 0, retryAfter: null, ms: Date.now() - started });
          }
        }
      })(),
    );
    try {
      while (answers.filter((a) => a.status === 201).length < 50) await new Promise((r) => setTimeout(r, 20));
      const postmaster = Number(readFileSync(`${cluster.dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
      const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)])
        .toString()
        .trim()
        .split(/\s+/)
        .map(Number);
      processes = [postmaster, ...children];
      execFileSync('kill', ['-STOP', ...processes.map(String)]);
      phase = 'frozen';
      const thawAt = Date.now() + FREEZE_MS;
      while (Date.now() < thawAt) {
        const started = Date.now();
        health.push({ status: (await fetch(`${bridge.url}/health`)).status, ms: Date.now() - started });
      }
      execFileSync('kill', ['-CONT', ...processes.map(String)]);
      processes = [];
      phase = 'after';
      expect(health.length).toBeGreaterThan(0);
      expect(health.every((h) => h.status === 503 && h.ms < 3500)).toBe(true);
      const thawed = Date.now();
      while ((await fetch(`${bridge.url}/health`)).status !== 200) {
        if (Date.now() - thawed > 10_000) throw new Error('/health did not recover within 10 s of the database');
        await new Promise((r) => setTimeout(r, 50));
      }
      const before = answers.filter((a) => a.phase === 'after' && a.status === 201).length;
      while (answers.filter((a) => a.phase === 'after' && a.status === 201).length < before + 20) await new Promise((r) => setTimeout(r, 20));
    } finally {
      running = false;
      await Promise.all(lanes);
    }
    const byPhase: Record<string, Record<string, number>> = {};
    for (const a of answers) (byPhase[a.phase] ??= {})[String(a.status)] = (byPhase[a.phase][String(a.status)] ?? 0) + 1;
    recordFigures(`PostgreSQL frozen (SIGSTOP) for ${FREEZE_MS / 1000} s under 8 clients`, {
      answers: byPhase,
      slowestFrozenMs: Math.max(0, ...answers.filter((a) => a.phase === 'frozen').map((a) => a.ms)),
      health: `${health.length} × 503, slowest ${Math.max(...health.map((h) => h.ms))} ms`,
      exit: bridge.child.exitCode ?? 'still running',
    });
    expect(bridge.child.exitCode).toBeNull();
    const unexpected = answers.filter((a) => !(a.status === 200 || a.status === 201 || (a.status === 503 && Number(a.retryAfter) > 0)));
    expect(unexpected).toEqual([]);
  }, 120_000);
});
