/**
 * `scim-bridge doctor` end to end on loopback, against the bundled bridge serving HTTPS itself with certificates
 * made here by a test CA: green with --ca, and each way a real deployment goes wrong (an untrusted or expired
 * certificate, a wrong token, plain http:// to the TLS port, SCIM in plain text on the HTTP port) fails with its line.
 * The certificate is renewed under the running bridge, which the tests wait for by its log line, not a clock.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { promisify } from 'node:util';
import { type CheckResult, type DoctorReport, runDoctor } from '../../bridge/src/cli/doctor';
import { createSession, serializeSession } from '../../bridge/src/session/scimsession';
import { type TestBridge, startBridge } from '../support/bridge';
import { BUNDLE, freePort } from '../support/process';
import { type Leaf, type Pki, createPki } from './pki';

const run = promisify(execFile);

interface TlsBridge {
  readonly port: number;
  readonly url: string;
  readonly token: string;
  readonly dir: string;
  /** Resolves with the first log line (parsed) that matches, including lines already written. */
  waitForLog(match: (entry: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  output(): string;
  stop(): Promise<void>;
}

/** Starts the bundle with SCIM_TLS_* pointing at cert.pem/key.pem in its own folder (copied from `leaf`). */
async function startTlsBridge(leaf: Leaf, env: Record<string, string> = {}): Promise<TlsBridge> {
  const dir = mkdtempSync(join(tmpdir(), 'scim-tls-bridge-'));
  copyFileSync(leaf.cert, join(dir, 'cert.pem'));
  copyFileSync(leaf.key, join(dir, 'key.pem'));
  const { session, token } = createSession();
  writeFileSync(join(dir, 'scimsession'), serializeSession(session));
  const child: ChildProcess = spawn(process.execPath, [BUNDLE, 'serve'], {
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      SCIM_SESSION_FILE: join(dir, 'scimsession'),
      SCIM_DATABASE_URL: `sqlite:${join(dir, 'bridge.db')}`,
      SCIM_TLS_CERT_FILE: join(dir, 'cert.pem'),
      SCIM_TLS_KEY_FILE: join(dir, 'key.pem'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const entries: Record<string, unknown>[] = [];
  const waiters: { match: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }[] = [];
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk;
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line);
      } catch {
        continue;
      }
      entries.push(entry);
      for (const w of [...waiters]) {
        if (w.match(entry)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(entry);
        }
      }
    }
  });
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const waitForLog = (match: (e: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const seen = entries.find(match);
      if (seen) return resolve(seen);
      waiters.push({ match, resolve });
      void exited.then(() => reject(new Error(`bridge exited: ${output}`)));
    });
  const listening = await waitForLog((e) => e.msg === 'scim-bridge listening');
  const port = Number(new URL(String(listening.url)).port);
  return {
    port,
    url: `https://localhost:${port}`,
    token,
    dir,
    waitForLog,
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Replaces the bridge's certificate files the way renewal tools do: written beside, then renamed over. */
function renew(bridge: TlsBridge, leaf: Leaf): void {
  for (const [from, to] of [
    [leaf.key, 'key.pem'],
    [leaf.cert, 'cert.pem'],
  ]) {
    copyFileSync(from, join(bridge.dir, `${to}.new`));
    renameSync(join(bridge.dir, `${to}.new`), join(bridge.dir, to));
  }
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const byId = (report: DoctorReport, id: string): CheckResult | undefined => report.checks.find((c) => c.id === id);
const statuses = (report: DoctorReport) => Object.fromEntries(report.checks.map((c) => [c.id, c.status]));

/** The bundled CLI, as a pipeline runs it. */
async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BUNDLE, 'doctor', ...args], { env: { PATH: process.env.PATH, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function userCount(bridge: TlsBridge, ca: Buffer, filter?: string): Promise<number> {
  const path = `/scim/v2/Users?count=0${filter ? `&filter=${encodeURIComponent(filter)}` : ''}`;
  return new Promise((resolve, reject) => {
    https
      .get(`${bridge.url}${path}`, { ca, headers: { authorization: `Bearer ${bridge.token}` } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(JSON.parse(body).totalResults));
      })
      .on('error', reject);
  });
}

/** Sends a request with a unique id and waits for its log line: every earlier request is logged before it. */
async function mark(bridge: TlsBridge, ca: Buffer): Promise<string> {
  const id = `mark-${Math.random().toString(36).slice(2)}`;
  await new Promise<void>((resolve, reject) =>
    https.get(`${bridge.url}/ping`, { ca, headers: { 'x-request-id': id } }, (res) => res.resume().on('end', resolve)).on('error', reject),
  );
  await bridge.waitForLog((e) => e.reqId === id);
  return id;
}

describe('scim-bridge doctor against a bridge serving HTTPS itself', () => {
  let pki: Pki;
  let ca: Buffer;
  let good: Leaf;
  let bridge: TlsBridge;
  let httpPort: number;

  beforeAll(async () => {
    pki = createPki();
    ca = readFileSync(pki.caFile);
    good = pki.issue('good', { toDays: 90 });
    bridge = await startTlsBridge(good);
    httpPort = await freePort();
  });
  afterAll(async () => {
    await bridge?.stop();
    pki?.cleanup();
  });

  /** Plain HTTP on loopback (--allow-http) in front of the bridge, answering `fault(req)` instead where it gives one. */
  const faultyProxy = (fault: (req: http.IncomingMessage) => [number, string] | undefined) =>
    http.createServer((req, res) => {
      const answer = fault(req);
      if (answer) {
        req.resume();
        res.writeHead(answer[0], { 'content-type': 'text/plain' }).end(answer[1]);
        return;
      }
      const upstream = https.request(`${bridge.url}${req.url}`, { method: req.method, headers: req.headers, ca }, (up) => {
        res.writeHead(up.statusCode!, up.headers);
        up.pipe(res);
      });
      req.pipe(upstream);
    });

  it('is green with --ca: every check ok, the closed HTTP port only a warning, and the write check leaves no user', async () => {
    const before = await userCount(bridge, ca);
    const report = await runDoctor({ url: bridge.url, token: bridge.token, ca, writeCheck: true, httpPort });
    expect(report.ok).toBe(true);
    expect(report.failures).toBe(0);
    const notOk = report.checks.filter((c) => c.status !== 'ok').map((c) => `${c.id}:${c.status}`);
    expect(notOk).toEqual(['http-redirect:warn']);
    expect(Object.keys(statuses(report))).toEqual(
      expect.arrayContaining([
        'dns',
        'tls',
        'ping',
        'health',
        'token',
        'token-refused',
        'discovery-ServiceProviderConfig',
        'discovery-ResourceTypes',
        'discovery-Schemas',
        'list',
        'write-create',
        'write-read',
        'write-deactivate',
        'write-delete',
      ]),
    );
    expect(byId(report, 'tls')!.detail).toMatch(/valid until .*TLSv1\.3/);
    expect(await userCount(bridge, ca)).toBe(before);
    expect(await userCount(bridge, ca, 'userName sw "scim-doctor-"')).toBe(0);
  });

  it('the CLI (bundle) reads the token from SCIM_DOCTOR_TOKEN or --token-file, exits 0 when green and never prints the token', async () => {
    const fromEnv = await cli([bridge.url, '--ca', pki.caFile, '--http-port', String(httpPort), '--write-check'], { SCIM_DOCTOR_TOKEN: bridge.token });
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).toMatch(/^ {2}ok {4}TLS /m);
    expect(fromEnv.stdout).toMatch(/\d+ checks: \d+ ok, 1 warning, 0 failures/);
    const tokenFile = join(pki.dir, 'token');
    writeFileSync(tokenFile, `${bridge.token}\n`);
    const fromFile = await cli([`${bridge.url}/scim/v2`, '--token-file', tokenFile, '--ca', pki.caFile, '--http-port', String(httpPort), '--json']);
    expect(fromFile.code).toBe(0);
    const report = JSON.parse(fromFile.stdout) as DoctorReport;
    expect(report).toMatchObject({ ok: true, failures: 0, scimBaseUrl: `${bridge.url}/scim/v2` });
    for (const out of [fromEnv, fromFile]) expect(out.stdout + out.stderr).not.toContain(bridge.token);
  });

  it('fails on an untrusted certificate without --ca, and sends the token nowhere', async () => {
    const res = await cli([bridge.url, '--http-port', String(httpPort)], { SCIM_DOCTOR_TOKEN: bridge.token });
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/FAIL {2}TLS +the certificate is not trusted/);
    expect(res.stdout).toMatch(/→ .*--ca FILE/);
    expect(res.stderr).toMatch(/doctor: 1 check failed/);
    expect(res.stdout).not.toMatch(/GET \/ping|token accepted/);
  });

  it('sends no HTTP request at all over a certificate that did not verify', async () => {
    const start = await mark(bridge, ca);
    await runDoctor({ url: bridge.url, token: bridge.token, httpPort });
    const end = await mark(bridge, ca);
    const between = bridge.output().slice(bridge.output().indexOf(start), bridge.output().indexOf(end));
    expect(between).not.toContain('scim-bridge-doctor');
  });

  it('fails on a wrong token (401 explained) and still checks that a wrong token is refused', async () => {
    const report = await runDoctor({ url: bridge.url, token: 'scimb_not-the-token-0123456789abcdef', ca, httpPort });
    expect(report.ok).toBe(false);
    expect(byId(report, 'token')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/refused the token \(401\)/) });
    expect(byId(report, 'token-refused')!.status).toBe('ok');
    expect(byId(report, 'list')!.status).toBe('skip');
    const res = await cli([bridge.url, '--ca', pki.caFile, '--http-port', String(httpPort), '--token', 'scimb_not-the-token-0123456789abcdef']);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/FAIL {2}token accepted/);
    expect(res.stdout).not.toContain('scimb_not-the-token-0123456789abcdef');
  });

  it('fails on plain http:// to the TLS port, before sending the token', async () => {
    const report = await runDoctor({ url: `http://localhost:${bridge.port}`, token: bridge.token, httpPort, allowHttp: true });
    expect(report.ok).toBe(false);
    expect(byId(report, 'tls')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/speaks TLS/),
      hint: expect.stringContaining(`https://localhost:${bridge.port}`),
    });
    expect(report.checks.map((c) => c.id)).toEqual(['dns', 'tls']);
  });

  it('fails on https:// to a plain HTTP listener, and on SCIM served in plain text on the HTTP port', async () => {
    const plain: TestBridge = await startBridge();
    try {
      const port = Number(new URL(plain.url).port);
      const wrongScheme = await runDoctor({ url: `https://localhost:${port}`, token: plain.token, httpPort });
      expect(byId(wrongScheme, 'tls')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/does not speak TLS/) });
      // The TLS bridge with the plain bridge on its "port 80": an identity provider given http:// would send the token in clear.
      const leaking = await runDoctor({ url: bridge.url, token: bridge.token, ca, httpPort: port });
      expect(byId(leaking, 'http-redirect')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/serves SCIM in plain text/) });
      expect(leaking.ok).toBe(false);
      // Given http:// to a plain bridge without --allow-http: a failure, probes only, and no token sent.
      const refused = await runDoctor({ url: plain.url, token: plain.token, httpPort });
      expect(byId(refused, 'tls')).toMatchObject({
        status: 'fail',
        detail: expect.stringMatching(/plain HTTP: the bearer token would cross the network unencrypted/),
      });
      expect(statuses(refused)).toMatchObject({ ping: 'ok', health: 'ok', token: 'skip' });
    } finally {
      await plain.stop();
    }
  });

  it('accepts a redirect to HTTPS on the HTTP port', async () => {
    const redirector = http.createServer((req, res) => res.writeHead(308, { location: `https://localhost:${bridge.port}${req.url}` }).end());
    const port = await listen(redirector);
    try {
      const report = await runDoctor({ url: bridge.url, token: bridge.token, ca, httpPort: port });
      expect(byId(report, 'http-redirect')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/redirects to https:\/\/localhost/) });
      const toPlain = http.createServer((req, res) => res.writeHead(301, { location: `http://elsewhere.example${req.url}` }).end());
      const other = await listen(toPlain);
      const bad = await runDoctor({ url: bridge.url, token: bridge.token, ca, httpPort: other });
      expect(byId(bad, 'http-redirect')!.status).toBe('fail');
      toPlain.close();
    } finally {
      redirector.close();
    }
  });

  it('names the email-domain rule when SCIM_ALLOWED_DOMAINS refuses the test user, and --write-check-domain passes it', async () => {
    const strict = await startTlsBridge(good, { SCIM_ALLOWED_DOMAINS: 'example.com' });
    try {
      const refused = await runDoctor({ url: strict.url, token: strict.token, ca, httpPort, writeCheck: true });
      expect(byId(refused, 'write-create')).toMatchObject({ status: 'fail', hint: expect.stringMatching(/--write-check-domain/) });
      expect(byId(refused, 'write-cleanup')).toBeUndefined(); // nothing was created, nothing to clean
      const allowed = await runDoctor({ url: strict.url, token: strict.token, ca, httpPort, writeCheck: true, writeCheckDomain: 'example.com' });
      expect(allowed.ok).toBe(true);
      expect(byId(allowed, 'write-create')!.detail).toMatch(/scim-doctor-[0-9a-f]+@example\.com/);
      expect(await userCount(strict, ca)).toBe(0);
    } finally {
      await strict.stop();
    }
  });

  it('removes the test user when a step after the create fails', async () => {
    // A proxy that breaks PATCH (a step after the user exists), in plain HTTP on loopback (--allow-http).
    const proxy = faultyProxy((req) => (req.method === 'PATCH' ? [502, 'bad gateway'] : undefined));
    const port = await listen(proxy);
    try {
      const report = await runDoctor({ url: `http://127.0.0.1:${port}`, token: bridge.token, allowHttp: true, writeCheck: true, httpPort });
      expect(byId(report, 'write-create')!.status).toBe('ok');
      expect(byId(report, 'write-deactivate')!.status).toBe('fail');
      // delete still ran in order; had it not, cleanup would have removed the user
      expect(await userCount(bridge, ca, 'userName sw "scim-doctor-"')).toBe(0);
    } finally {
      proxy.close();
    }
  });

  it('cleans up when the delete step itself fails', async () => {
    let deletes = 0;
    const proxy = faultyProxy((req) => (req.method === 'DELETE' && deletes++ === 0 ? [503, 'unavailable'] : undefined));
    const port = await listen(proxy);
    try {
      const report = await runDoctor({ url: `http://127.0.0.1:${port}`, token: bridge.token, allowHttp: true, writeCheck: true, httpPort });
      expect(byId(report, 'write-delete')!.status).toBe('fail');
      expect(byId(report, 'write-cleanup')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/removed the test user/) });
      expect(await userCount(bridge, ca, 'userName sw "scim-doctor-"')).toBe(0);
    } finally {
      proxy.close();
    }
  });

  describe('certificate renewal under the running bridge (no restart)', () => {
    it('picks up a renewed certificate, warns when it is near its end, fails when it is expired, and keeps the last good pair on a bad one', async () => {
      const soon = pki.issue('soon', { toDays: 10 });
      renew(bridge, soon);
      const reloaded = await bridge.waitForLog(
        (e) => e.msg === 'tls certificate reloaded' && String(e.validTo).startsWith(new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 8)),
      );
      expect(reloaded.fingerprint256).toBeDefined();
      const warned = await runDoctor({ url: bridge.url, token: bridge.token, ca, httpPort });
      expect(byId(warned, 'tls')).toMatchObject({ status: 'warn', detail: expect.stringMatching(/expires in (9|10) days/) });
      expect(warned.ok).toBe(true);

      const expired = pki.issue('expired', { fromDays: -30, toDays: -1 });
      renew(bridge, expired);
      await bridge.waitForLog((e) => e.msg === 'tls certificate has expired; clients refuse it until it is renewed');
      const failed = await runDoctor({ url: bridge.url, token: bridge.token, ca, httpPort });
      expect(byId(failed, 'tls')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/expired on/) });
      expect(failed.ok).toBe(false);

      // A certificate with another pair's key: refused, the expired one stays (a warning, no crash).
      const other = pki.issue('other', { toDays: 90 });
      copyFileSync(good.cert, join(bridge.dir, 'cert.pem.new'));
      renameSync(join(bridge.dir, 'cert.pem.new'), join(bridge.dir, 'cert.pem'));
      copyFileSync(other.key, join(bridge.dir, 'key.pem.new'));
      renameSync(join(bridge.dir, 'key.pem.new'), join(bridge.dir, 'key.pem'));
      const refused = await bridge.waitForLog((e) => e.msg === 'tls certificate reload failed; keeping the current one');
      expect(String(refused.reason)).toMatch(/is not the private key of the certificate/);
      expect(byId(await runDoctor({ url: bridge.url, token: bridge.token, ca, httpPort }), 'tls')!.detail).toMatch(/expired/);

      // The renewal completes: the good pair is served again.
      renew(bridge, good);
      await bridge.waitForLog(
        (e) => e.msg === 'tls certificate reloaded' && String(e.validTo).startsWith(new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 8)),
      );
      expect((await runDoctor({ url: bridge.url, token: bridge.token, ca, httpPort })).ok).toBe(true);
      // Never a key in the logs.
      expect(bridge.output()).not.toContain('PRIVATE KEY');
      expect(bridge.output()).not.toContain(bridge.token);
    });
  });

  describe('the TLS the bridge offers', () => {
    const handshake = (options: tls.ConnectionOptions) =>
      new Promise<string>((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port: bridge.port, servername: 'localhost', ca, ...options }, () => {
          resolve(socket.getProtocol() ?? '');
          socket.end();
        });
        socket.once('error', reject);
      });

    it('speaks TLS 1.3 and 1.2 (forward-secret AEAD suites only) and refuses TLS 1.1 and CBC suites', async () => {
      expect(await handshake({})).toBe('TLSv1.3');
      expect(await handshake({ maxVersion: 'TLSv1.2' })).toBe('TLSv1.2');
      await expect(handshake({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1' })).rejects.toThrow();
      await expect(handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA' })).rejects.toThrow();
    });

    it('sends HSTS on its own HTTPS', async () => {
      const hsts = await new Promise<string | undefined>((resolve, reject) =>
        https
          .get(`${bridge.url}/ping`, { ca }, (res) => {
            res.resume();
            resolve(res.headers['strict-transport-security'] as string | undefined);
          })
          .on('error', reject),
      );
      expect(hsts).toMatch(/^max-age=\d{7,}/);
    });
  });
});

describe('scim-bridge serve with a bad TLS configuration', () => {
  let pki: Pki;
  let dir: string;
  beforeAll(() => {
    pki = createPki();
    dir = mkdtempSync(join(tmpdir(), 'scim-tls-bad-'));
    writeFileSync(join(dir, 'scimsession'), serializeSession(createSession().session));
  });
  afterAll(() => {
    pki.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const serve = async (env: Record<string, string>) => {
    try {
      await run(process.execPath, [BUNDLE, 'serve'], {
        env: {
          PATH: process.env.PATH,
          HOST: '127.0.0.1',
          PORT: '0',
          SCIM_SESSION_FILE: join(dir, 'scimsession'),
          SCIM_DATABASE_URL: `sqlite:${join(dir, 'b.db')}`,
          ...env,
        },
        timeout: 20_000,
      });
      return { code: 0, stderr: '' };
    } catch (error) {
      const e = error as { code: number; stderr: string };
      return { code: e.code, stderr: e.stderr };
    }
  };

  it("a key that is not the certificate's, a missing file or one variable alone: one configuration line, exit 1", async () => {
    const a = pki.issue('a');
    const b = pki.issue('b');
    const mismatch = await serve({ SCIM_TLS_CERT_FILE: a.cert, SCIM_TLS_KEY_FILE: b.key });
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^scim-bridge: HTTPS: .*b\.key \(SCIM_TLS_KEY_FILE\) is not the private key of the certificate in .*a\.pem$/),
    ]);
    const missing = await serve({ SCIM_TLS_CERT_FILE: join(dir, 'nope.pem'), SCIM_TLS_KEY_FILE: a.key });
    expect(missing.stderr.trim().split('\n')).toEqual([expect.stringMatching(/cannot read the certificate .*nope\.pem \(SCIM_TLS_CERT_FILE\): no such file/)]);
    const notPem = await serve({ SCIM_TLS_CERT_FILE: a.key, SCIM_TLS_KEY_FILE: a.key });
    expect(notPem.stderr).toMatch(/is not a PEM certificate/);
    const alone = await serve({ SCIM_TLS_CERT_FILE: a.cert });
    expect(alone.code).toBe(1);
    expect(alone.stderr.trim()).toMatch(/^scim-bridge: SCIM_TLS_KEY_FILE is needed too/);
    for (const r of [mismatch, missing, notPem, alone]) expect(r.stderr).not.toContain('PRIVATE KEY');
  });
});

describe('scim-bridge doctor against a hostile server', () => {
  it('never prints the token, even when the server echoes it back, and bounds what it reads', async () => {
    const token = 'scimb_echoed-secret-token-0123456789';
    const server = http.createServer((req, res) => {
      req.resume();
      if (req.url === '/ping') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      if (req.url === '/health') return void res.writeHead(200, { 'content-type': 'application/json' }).end('x'.repeat(5 * 1024 * 1024));
      // Everything else: a 401 whose detail repeats the Authorization header.
      res.writeHead(401, { 'content-type': 'application/scim+json' }).end(JSON.stringify({ detail: `rejected ${req.headers.authorization}` }));
    });
    const port = await listen(server);
    try {
      const report = await runDoctor({ url: `http://127.0.0.1:${port}`, token, allowHttp: true, httpPort: await freePort() });
      expect(report.ok).toBe(false);
      expect(JSON.stringify(report)).not.toContain(token);
      expect(byId(report, 'token')!.detail).toContain('[token]');
      expect(byId(report, 'health')!.status).toBe('fail');
    } finally {
      server.close();
    }
  });
});

describe('scim-bridge doctor usage', () => {
  it('needs a URL and a token (exit 2), and says where the token may come from', async () => {
    const noToken = await cli(['https://scim.example.com']);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toMatch(/--token T, --token-file FILE or SCIM_DOCTOR_TOKEN/);
    expect((await cli([], { SCIM_DOCTOR_TOKEN: 'x' })).code).toBe(2);
    expect((await cli(['https://scim.example.com', '--token', 'x', '--write-check-domain', 'example.com'])).code).toBe(2);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/SCIM_DOCTOR_TOKEN/);
    expect(help.stdout).toMatch(/--token-file FILE/);
  });

  it('fails on a name that does not resolve, with what to do', async () => {
    const report = await runDoctor({ url: 'https://scim-bridge-doctor-test.invalid', token: 'x'.repeat(20) });
    expect(report.checks).toEqual([expect.objectContaining({ id: 'dns', status: 'fail', hint: expect.stringMatching(/record/) })]);
  });
});

describe('TlsTerminator.reload (what the poll fallback runs where no change event arrives)', () => {
  it('swaps only on a real change, and keeps the current pair (with a warning) when the new one does not load', async () => {
    const { TlsTerminator } = await import('../../bridge/src/http/tls');
    const pki = createPki();
    const dir = mkdtempSync(join(tmpdir(), 'scim-tls-unit-'));
    try {
      const first = pki.issue('first');
      const second = pki.issue('second');
      copyFileSync(first.cert, join(dir, 'cert.pem'));
      copyFileSync(first.key, join(dir, 'key.pem'));
      const terminator = new TlsTerminator({ certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') });
      const logged: string[] = [];
      terminator.watch({ info: (_f, m) => logged.push(m), warn: (_f, m) => logged.push(m) });
      const before = terminator.info.fingerprint256;
      expect(await terminator.reload()).toBe(false);
      copyFileSync(second.cert, join(dir, 'cert.pem')); // the certificate first, the key not yet: a half-done renewal
      expect(await terminator.reload()).toBe(false);
      expect(terminator.info.fingerprint256).toBe(before);
      expect(logged).toContain('tls certificate reload failed; keeping the current one');
      copyFileSync(second.key, join(dir, 'key.pem'));
      expect(await terminator.reload()).toBe(true);
      expect(terminator.info.fingerprint256).not.toBe(before);
      terminator.stop();
    } finally {
      pki.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
