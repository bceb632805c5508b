/**
 * The bundled bridge, in its own process and under load, whose scimsession file goes bad the ways a secret mount or
 * a careless edit makes it go bad: half written, emptied, garbage, JSON that is no scimsession, removed. Every
 * request with the token of the last good scimsession keeps being answered (no 401, no 5xx), each bad version is
 * reported in the log without its contents, and the next good version is taken up without a restart.
 */
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSession, serializeSession } from '../../bridge/src/session/scimsession';
import { type BridgeProcess, spawnBridge } from '../support/process';
import { recordFigures, tally } from '../support/figures';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const WARNING = 'scimsession reload failed; keeping the last good one';

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('a corrupted scimsession file on the bundled bridge under load', () => {
  let dir: string;
  let bridge: BridgeProcess | undefined;
  afterAll(async () => {
    bridge?.child.kill('SIGTERM');
    await bridge?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps answering with the last good scimsession through every bad version, then takes the next good one', async () => {
    dir = mkdtempSync(join(tmpdir(), 'scim-corrupt-load-'));
    const file = join(dir, 'scimsession');
    const good = createSession();
    writeFileSync(file, serializeSession(good.session));
    const started = await spawnBridge({ SCIM_SESSION_FILE: file, SCIM_DATABASE_URL: `sqlite:${join(dir, 'bridge.db')}`, LOG_LEVEL: 'warn' });
    bridge = started;
    const warnings = () =>
      started
        .output()
        .split('\n')
        .filter((line) => line.includes(WARNING)).length;

    const statuses = new Map<number, number>();
    let running = true;
    let n = 0;
    const lanes = Array.from({ length: 6 }, (_, lane) =>
      (async () => {
        while (running) {
          let status = 0;
          try {
            const res =
              lane % 2
                ? await fetch(`${started.url}/scim/v2/Users`, {
                    method: 'POST',
                    headers: { authorization: `Bearer ${good.token}`, 'content-type': 'application/scim+json' },
                    body: JSON.stringify({ schemas: [USER], userName: `load-${lane}-${n++}@example.com` }),
                  })
                : await fetch(`${started.url}/scim/v2/Users?count=1`, { headers: { authorization: `Bearer ${good.token}` } });
            await res.arrayBuffer();
            status = res.status;
          } catch {
            status = 0;
          }
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      })(),
    );

    const next = createSession();
    const nextText = serializeSession(next.session);
    const badVersions: [string, () => void][] = [
      ['half written', () => writeFileSync(file, nextText.slice(0, Math.floor(nextText.length / 2)))],
      ['emptied', () => writeFileSync(file, '')],
      ['garbage', () => writeFileSync(file, `\u0000\u00ff garbage ${good.token.slice(0, 6)}`)],
      ['JSON that is no scimsession', () => writeFileSync(file, '{"format":"something else","verifiers":[]}')],
      ['removed', () => unlinkSync(file)],
    ];
    try {
      await until(() => (statuses.get(201) ?? 0) > 20, 'the load is under way');
      for (const [what, corrupt] of badVersions) {
        const before = warnings();
        const answered = (statuses.get(200) ?? 0) + (statuses.get(201) ?? 0);
        corrupt();
        await until(() => warnings() > before, `the bridge reports the scimsession ${what}`);
        // Still answering, with the last good token, after the bad version was seen.
        await until(() => (statuses.get(200) ?? 0) + (statuses.get(201) ?? 0) > answered + 20, `requests are answered after the scimsession was ${what}`);
      }
    } finally {
      running = false;
      await Promise.all(lanes);
    }
    recordFigures('scimsession file half-written, emptied, garbage, foreign, removed under 6 clients (bundled bridge)', {
      answers: tally(statuses),
      warnings: warnings(),
      exit: started.child.exitCode ?? 'still running',
    });
    expect(started.child.exitCode).toBeNull();
    expect([...statuses.keys()].sort()).toEqual([200, 201]);

    // The next good version is taken up without a restart; the old token is then refused.
    writeFileSync(file, nextText);
    await until(
      async () => (await fetch(`${started.url}/scim/v2/Users?count=1`, { headers: { authorization: `Bearer ${next.token}` } })).status === 200,
      'the new token is accepted',
    );
    expect((await fetch(`${started.url}/scim/v2/Users?count=1`, { headers: { authorization: `Bearer ${good.token}` } })).status).toBe(401);

    const output = started.output();
    expect(output).not.toContain(good.token);
    expect(output).not.toContain(next.token);
    expect(output).not.toContain(good.session.verifiers[0].hash);
    expect(output).not.toContain('garbage');
  });
});
