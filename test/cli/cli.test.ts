/** The `scim-bridge` command line, run as users run it: the bundled file, in a folder with no node_modules. */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseSession, verifyToken } from '../../bridge/src/session/scimsession';
import { STATE_KEYS } from '../../bridge/src/sources/google/sync';
import { openStore } from '../../bridge/src/store/open';
import { BUNDLE, spawnBridge } from '../support/process';
import { describePostgres, freshDatabase } from '../support/postgres';

const run = promisify(execFile);

describe('scim-bridge command line (bundled, no node_modules)', () => {
  let dir: string;
  let cli: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'scim-cli-'));
    cli = join(dir, 'scim-bridge.cjs');
    copyFileSync(BUNDLE, cli);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const bridge = async (args: string[], env: Record<string, string> = {}) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [cli, ...args], { cwd: dir, env: { PATH: process.env.PATH, ...env } });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it('session create writes a 0600 scimsession and prints the token as the last line', async () => {
    const res = await bridge(['session', 'create', '--out', 'scimsession']);
    expect(res.code).toBe(0);
    const token = res.stdout.trim().split('\n').pop()!;
    const file = join(dir, 'scimsession');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(token);
    expect(verifyToken(parseSession(text), token)).toBe('provision');
    expect((await bridge(['session', 'create', '--out', 'scimsession'])).code).toBe(2); // never overwrites silently
  });

  it('session create --json prints token and file as JSON', async () => {
    const res = await bridge(['session', 'create', '--out', 'json-session', '--json']);
    const out = JSON.parse(res.stdout);
    expect(out).toEqual({ token: expect.stringMatching(/^scimb_/), sessionFile: 'json-session' });
  });

  it('session rotate adds a token (both work), and --retire-others leaves only the newest', async () => {
    const first = (await bridge(['session', 'create', '--out', 'rotating'])).stdout.trim().split('\n').pop()!;
    const second = (await bridge(['session', 'rotate', '--session-file', 'rotating'])).stdout.trim().split('\n').pop()!;
    let session = parseSession(readFileSync(join(dir, 'rotating'), 'utf8'));
    expect([verifyToken(session, first), verifyToken(session, second)]).toEqual(['provision', 'provision']);
    const third = JSON.parse((await bridge(['session', 'rotate', '--session-file', 'rotating', '--retire-others', '--json'])).stdout).token;
    session = parseSession(readFileSync(join(dir, 'rotating'), 'utf8'));
    expect([verifyToken(session, first), verifyToken(session, second), verifyToken(session, third)]).toEqual([undefined, undefined, 'provision']);
  });

  it('session rotate --scope read|operate adds a token of that scope (last line); retire --scope keeps the others', async () => {
    const provision = (await bridge(['session', 'create', '--out', 'scoped'])).stdout.trim().split('\n').pop()!;
    const readOut = await bridge(['session', 'rotate', '--session-file', 'scoped', '--scope', 'read']);
    expect(readOut.code).toBe(0);
    const read = readOut.stdout.trim().split('\n').pop()!;
    expect(readOut.stdout).toContain('now version 2');
    const operate = JSON.parse((await bridge(['session', 'rotate', '--session-file', 'scoped', '--scope', 'operate', '--json'])).stdout);
    expect(operate).toEqual({ token: expect.stringMatching(/^scimb_/), sessionFile: 'scoped', scope: 'operate' });
    const read2 = (await bridge(['session', 'rotate', '--session-file', 'scoped', '--scope', 'read'])).stdout.trim().split('\n').pop()!;
    let session = parseSession(readFileSync(join(dir, 'scoped'), 'utf8'));
    expect([provision, read, operate.token, read2].map((t) => verifyToken(session, t))).toEqual(['provision', 'read', 'operate', 'read']);
    expect((await bridge(['session', 'retire', '--session-file', 'scoped', '--scope', 'read'])).code).toBe(0);
    session = parseSession(readFileSync(join(dir, 'scoped'), 'utf8'));
    expect([provision, read, operate.token, read2].map((t) => verifyToken(session, t))).toEqual(['provision', undefined, 'operate', 'read']);
  });

  it.each([
    [['session', 'rotate', '--session-file', 'scimsession', '--scope', 'admin'], {}, /--scope must be one of provision, read, operate \(got "admin"\)/],
    [['session', 'retire', '--session-file', 'scimsession', '--scope', 'operate'], {}, /scimsession holds no operate token/],
    [['serve'], {}, /no scimsession configured/],
    [['serve'], { SCIM_SESSION: '{"not":"a session"}' }, /not a scimsession/],
    [['serve'], { SCIM_SESSION_FILE: '/nonexistent/scimsession' }, /does not exist/],
    [['serve'], { SCIM_SESSION: 'bm90IGpzb24=' }, /neither JSON nor base64/],
    [
      ['serve'],
      { SCIM_SESSION_FILE: 'scimsession', SCIM_DATABASE_URL: 'sqlite:scimsession/bridge.db' },
      /cannot open the database file scimsession\/bridge.db: scimsession is not a directory/,
    ],
    [['serve'], { SCIM_SESSION_FILE: 'scimsession', SCIM_DATABASE_URL: 'mysql://x' }, /must start with sqlite: or postgres/],
    [['serve'], { SCIM_SESSION_FILE: 'scimsession', PORT: 'eighty' }, /PORT must be a port number/],
    [['nonsense'], {}, /unknown command/],
    [['session', 'create'], {}, /needs --out/],
  ])('fails with one clear line for %j %j', async (args, env, message) => {
    const res = await bridge(args, env);
    expect(res.code).not.toBe(0);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(message);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });

  it('prints the stack trace only when asked', async () => {
    const res = await bridge(['serve', '--debug'], { SCIM_SESSION: '{}' });
    expect(res.stderr).toMatch(/\n\s+at /);
  });

  it('serves from the bundle alone, logs JSON lines without the token, and manages groups', async () => {
    const token = (await bridge(['session', 'create', '--out', 'serve-session'])).stdout.trim().split('\n').pop()!;
    const env = { SCIM_SESSION_FILE: join(dir, 'serve-session'), SCIM_DATABASE_URL: `sqlite:${join(dir, 'serve.db')}`, LOG_LEVEL: 'info' };
    const served = await spawnBridge(env);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' };
    const group = (await (
      await fetch(`${served.url}/scim/v2/Groups`, { method: 'POST', headers, body: JSON.stringify({ displayName: 'Finance' }) })
    ).json()) as { id: string };
    served.child.kill('SIGTERM');
    expect(await served.exited).toBe(0);
    const lines = served.output().trim().split('\n');
    expect(lines.every((line) => JSON.parse(line))).toBe(true);
    expect(lines.some((line) => JSON.parse(line).msg === 'scim-bridge listening')).toBe(true);
    const requests = lines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'request');
    expect(requests.filter((entry) => entry.path === '/scim/v2/Groups')).toEqual([
      expect.objectContaining({ method: 'POST', status: 201, reqId: expect.any(String) }),
    ]);
    expect(served.output()).not.toContain(token);
    expect(served.output()).not.toContain(readFileSync(env.SCIM_SESSION_FILE, 'utf8').slice(60, 100));

    const listed = await bridge(['groups', 'list'], env);
    expect(listed.stdout).toMatch(new RegExp(`${group.id}\\tmanaged\\tFinance`));
    expect(listed.stdout).toMatch(/owners\tprotected\tOwners/);
    expect((await bridge(['groups', 'unmanage', group.id], env)).stdout).toMatch(/no longer managed/);
    expect((await bridge(['groups', 'manage', 'owners'], env)).stderr).toMatch(/protected/);
  });

  // The machines' own Node.js is 20 (past its end of life): the bundle must say what it needs, not crash on node:sqlite.
  const oldNode = ['/usr/bin/node', '/usr/local/bin/node'].find((candidate) => {
    try {
      return Number(require('node:child_process').execFileSync(candidate, ['-p', 'process.versions.node.split(".")[0]']).toString()) < 22;
    } catch {
      return false;
    }
  });
  (oldNode ? it : it.skip)(`says in one line which Node.js it needs when run by an older one (${oldNode ?? 'none found'})`, async () => {
    const failed = await run(oldNode!, [cli, 'serve'], { cwd: dir, env: { PATH: process.env.PATH } }).catch((e) => e);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^scim-bridge needs Node\.js 22\.13 or newer \(24 LTS recommended\); this is v\d+\.\d+\.\d+\n$/);
    expect(failed.stdout).toBe('');
  });

  it('npm start-style local run creates ./data/scimsession once and prints how to reach the bridge', async () => {
    const local = mkdtempSync(join(tmpdir(), 'scim-local-'));
    try {
      const child = require('node:child_process').spawn(process.execPath, [cli, 'serve', '--local'], {
        cwd: local,
        env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk));
      while (!out.includes('health:')) await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      expect(existsSync(join(local, 'data', 'scimsession'))).toBe(true);
      expect(out).toMatch(/Bearer token|bearer token/);
      expect(out).toMatch(/SCIM base URL: +http:\/\/127\.0\.0\.1:\d+\/scim\/v2/);
      const token = out
        .split('\n')
        .find((line) => line.trim().startsWith('scimb_'))!
        .trim();
      expect(verifyToken(parseSession(readFileSync(join(local, 'data', 'scimsession'), 'utf8')), token)).toBe('provision');
    } finally {
      rmSync(local, { recursive: true, force: true });
    }
  });

  it('npm start listens on loopback only when HOST is not set, and prints localhost', async () => {
    const local = mkdtempSync(join(tmpdir(), 'scim-local-'));
    try {
      const child = require('node:child_process').spawn(process.execPath, [cli, 'serve', '--local'], {
        cwd: local,
        env: { PATH: process.env.PATH, PORT: '0', LOG_LEVEL: 'info' },
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk));
      while (!out.includes('health:')) await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      expect(out).toMatch(/SCIM base URL: +http:\/\/localhost:\d+\/scim\/v2/);
      // The bound address itself (a wildcard bind on a machine with only loopback would log 127.0.0.1 too).
      const listening = out
        .split('\n')
        .filter((line) => line.includes('"scim-bridge listening"'))
        .map((line) => JSON.parse(line));
      expect(listening).toEqual([expect.objectContaining({ address: '127.0.0.1' })]);
    } finally {
      rmSync(local, { recursive: true, force: true });
    }
  });
});

describePostgres('scim-bridge migrate (embedded store into PostgreSQL)', () => {
  it('copies users, groups, memberships, events, the change log with its positions and the kept state (not leases), and refuses a target that holds users', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scim-migrate-'));
    try {
      const sessionFile = join(dir, 'scimsession');
      const { stdout } = await run(process.execPath, [BUNDLE, 'session', 'create', '--out', sessionFile]);
      const token = stdout.trim().split('\n').pop()!;
      const sqlite = `sqlite:${join(dir, 'bridge.db')}`;
      const source = await spawnBridge({ SCIM_SESSION_FILE: sessionFile, SCIM_DATABASE_URL: sqlite });
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' };
      const ids: string[] = [];
      for (const name of ['ada', 'grace', 'alan']) {
        const res = await fetch(`${source.url}/scim/v2/Users`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ userName: `${name}@example.com`, title: name }),
        });
        ids.push(((await res.json()) as { id: string }).id);
      }
      await fetch(`${source.url}/scim/v2/Groups`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ displayName: 'Pioneers', members: ids.map((value) => ({ value })) }),
      });
      source.child.kill('SIGTERM');
      await source.exited;
      // What a Google sync keeps: the users it manages (so it can suspend them once they leave Google), and its lease.
      const embedded = await openStore(sqlite);
      await embedded.setState(STATE_KEYS.managedUsers, JSON.stringify([ids[0]]));
      await embedded.tryAcquireLease('google-workspace-sync', 'replica-a', 60_000);
      await embedded.close();

      const postgres = await freshDatabase();
      const migrated = await run(process.execPath, [BUNDLE, 'migrate', '--from', sqlite, '--to', postgres]);
      expect(migrated.stdout).toMatch(/Copied 3 users, 5 groups, 3 memberships, 4 events, 5 changes of the feed \(positions kept\) and 1 kept state values/);
      const copied = await openStore(postgres);
      try {
        // The feed goes on where it was: the same positions, and the next change takes the next one.
        const before = await openStore(sqlite);
        const log = await before.readChanges(0, 100);
        await before.close();
        expect((await copied.readChanges(0, 100)).map((c) => [c.position, c.type, c.resource.id])).toEqual(log.map((c) => [c.position, c.type, c.resource.id]));
        await copied.transaction((tx) => tx.appendChanges([{ type: 'user.updated', resource: { type: 'User', id: ids[0], version: 2 }, actor: 'test' }]));
        expect((await copied.readChanges(log[log.length - 1].position, 10)).map((c) => c.position)).toEqual([log[log.length - 1].position + 1]);
        expect(await copied.listState()).toEqual(new Map([[STATE_KEYS.managedUsers, JSON.stringify([ids[0]])]]));
        expect(await copied.tryAcquireLease('google-workspace-sync', 'replica-b', 60_000)).toBe(true);
      } finally {
        await copied.close();
      }

      const target = await spawnBridge({ SCIM_SESSION_FILE: sessionFile, SCIM_DATABASE_URL: postgres });
      const group = (await (await fetch(`${target.url}/scim/v2/Groups?filter=${encodeURIComponent('displayName eq "Pioneers"')}`, { headers })).json()) as {
        Resources: { members: { value: string }[] }[];
      };
      expect(group.Resources[0].members.map((m) => m.value).sort()).toEqual([...ids].sort());
      const ada = await (await fetch(`${target.url}/scim/v2/Users/${ids[0]}`, { headers })).json();
      expect(ada).toMatchObject({ userName: 'ada@example.com', title: 'ada' });
      target.child.kill('SIGTERM');
      await target.exited;

      const again = await run(process.execPath, [BUNDLE, 'migrate', '--from', sqlite, '--to', postgres]).catch((e) => e);
      expect(again.stderr).toMatch(/already holds users/);
      writeFileSync(join(dir, 'done'), '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
