/**
 * Graceful shutdown of the bundled bridge, for real: a child process gets SIGTERM while a request is in
 * flight (its body still arriving over a raw socket); that request completes, new connections are refused,
 * the store is closed with the write in it, and the process exits 0.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '../../bridge/src/server';
import { createSession, serializeSession } from '../../bridge/src/session/scimsession';
import { openStore } from '../../bridge/src/store/open';
import { BUNDLE, freePort } from '../support/process';
import { eventually, holdRequest, userBody } from './helpers';

describe('graceful shutdown of the bundled bridge on SIGTERM', () => {
  let dir: string;
  let child: ChildProcess | undefined;
  let output = '';

  beforeAll(() => {
    // test/global-setup.js builds the bundle before the suites run.
    expect(existsSync(BUNDLE)).toBe(true);
    dir = mkdtempSync(join(tmpdir(), 'scim-shutdown-'));
  });
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('finishes the request in flight, refuses new connections, closes the store and exits 0', async () => {
    const { session, token } = createSession();
    const databaseUrl = `sqlite:${join(dir, 'bridge.db')}`;
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [BUNDLE, 'serve'], {
      env: {
        PATH: process.env.PATH,
        SCIM_SESSION: serializeSession(session),
        SCIM_DATABASE_URL: databaseUrl,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    await eventually(async () => (await fetch(`${url}/health`)).status === 200, 15_000, 50);

    const held = await holdRequest(url, '/scim/v2/Users', token, userBody('in-flight@example.com'));
    // The status API counts requests in flight (itself included): the held one has reached the bridge.
    await eventually(
      async () => {
        const res = await fetch(`${url}/api/status`, { headers: { authorization: `Bearer ${token}` } });
        return ((await res.json()) as { limits: { inFlight: number } }).limits.inFlight >= 2;
      },
      5000,
      20,
    );

    child.kill('SIGTERM');
    const refused = await eventually(
      async () => {
        try {
          await fetch(`${url}/ping`);
          return undefined;
        } catch (error) {
          // A connection the kernel queued just before the listener closed is reset; wait for a plain refusal.
          const code = ((error as Error).cause as NodeJS.ErrnoException)?.code;
          return code === 'ECONNREFUSED' ? code : undefined;
        }
      },
      5000,
      20,
    );
    expect(refused).toBe('ECONNREFUSED');
    expect(child.exitCode).toBeNull(); // still waiting for the request in flight

    const answer = await held.finish();
    expect(answer.status).toBe(201);
    expect(answer.raw).toContain('"userName":"in-flight@example.com"');
    expect(await exited).toBe(0);
    expect(output).toContain('SIGTERM: finishing in-flight requests');
    expect(output).not.toContain(token);

    // The write survived, and the store was closed cleanly enough to open again.
    const store = await openStore(databaseUrl);
    try {
      expect(await store.findUserByUserName('in-flight@example.com')).toBeDefined();
    } finally {
      await store.close();
    }
  });
});

describe('the shutdown bound', () => {
  it('cuts a request that does not finish within the grace period, and still closes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scim-shutdown-bound-'));
    const { session, token } = createSession();
    const running = await serve({
      env: {
        SCIM_SESSION: serializeSession(session),
        SCIM_DATABASE_URL: `sqlite:${join(dir, 'bridge.db')}`,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
      },
      shutdownGraceMs: 300,
      print: () => undefined,
    });
    try {
      const url = running.url.replace('localhost', '127.0.0.1');
      const held = await holdRequest(url, '/scim/v2/Users', token, userBody('stuck@example.com'));
      const closed = new Promise((resolve) => held.socket.once('close', resolve));
      await eventually(
        async () => {
          const res = await fetch(`${url}/api/status`, { headers: { authorization: `Bearer ${token}` } });
          return ((await res.json()) as { limits: { inFlight: number } }).limits.inFlight >= 2;
        },
        5000,
        20,
      );
      const started = Date.now();
      await running.stop();
      expect(Date.now() - started).toBeLessThan(3000);
      await closed; // the stuck client's connection was cut
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
