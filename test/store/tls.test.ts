/**
 * Verified TLS to PostgreSQL, against a server of the test's own with TLS switched on and a CA and server
 * certificate made here with openssl: `verify-full` with the CA from PGSSLROOTCERT (a path) or
 * SCIM_DATABASE_CA_CERT (the PEM, as DigitalOcean's `${db.CA_CERT}` bind variable gives it) connects; a wrong CA
 * or a wrong host name is refused with one clear line; `require` keeps libpq's meaning (encrypts, verifies
 * nothing) and the bridge warns about it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createSession, serializeSession } from '../../bridge/src/session/scimsession';
import { PostgresStore, connectionSettings } from '../../bridge/src/store/postgres';
import { BUNDLE, freePort, spawnBridge } from '../support/process';
import { POSTGRES_URL, type PrivateCluster, describePostgres, privateCluster } from '../support/postgres';

const dir = mkdtempSync(join(tmpdir(), 'scim-tls-'));
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

function makeCa(name: string): void {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
}

beforeAll(() => {
  makeCa('test-ca');
  makeCa('other-ca');
  openssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=localhost',
  );
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'test-ca.crt',
    '-CAkey',
    'test-ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const { session } = createSession();

function serveOnce(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [BUNDLE, 'serve'], {
    env: { PATH: process.env.PATH, SCIM_SESSION: serializeSession(session), PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

describePostgres('TLS to PostgreSQL with a CA made in the test', () => {
  let cluster: PrivateCluster;
  const at = (host: string, query: string) => `postgres://postgres@${host}:${cluster.port}/postgres?${query}`;
  const caPath = () => join(dir, 'test-ca.crt');

  beforeAll(async () => {
    cluster = privateCluster(await freePort(), {
      settings: { ssl: 'on', ssl_cert_file: 'server.crt', ssl_key_file: 'server.key' },
      beforeStart: (data) => {
        for (const file of ['server.crt', 'server.key']) copyFileSync(join(dir, file), join(data, file));
        if (process.getuid?.() === 0) {
          const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
          for (const file of ['server.crt', 'server.key']) chownSync(join(data, file), uid, uid);
        }
        execFileSync('chmod', ['600', join(data, 'server.key')]);
      },
    });
  });
  afterAll(() => cluster?.destroy());

  async function connects(url: string, env: NodeJS.ProcessEnv): Promise<true> {
    const store = await PostgresStore.connect(url, env, { warn: () => undefined });
    try {
      await store.migrate();
      await store.ping();
      return true;
    } finally {
      await store.close();
    }
  }

  it('verify-full connects with the right CA, from PGSSLROOTCERT (a path), SCIM_DATABASE_CA_CERT (PEM or base64) or sslrootcert=', async () => {
    const pem = readFileSync(caPath(), 'utf8');
    expect(await connects(at('localhost', 'sslmode=verify-full'), { PGSSLROOTCERT: caPath() })).toBe(true);
    expect(await connects(at('localhost', 'sslmode=verify-full'), { SCIM_DATABASE_CA_CERT: pem })).toBe(true);
    expect(await connects(at('localhost', 'sslmode=verify-full'), { SCIM_DATABASE_CA_CERT: Buffer.from(pem).toString('base64') })).toBe(true);
    expect(await connects(at('localhost', `sslmode=verify-full&sslrootcert=${encodeURIComponent(caPath())}`), {})).toBe(true);
    // verify-ca checks the chain but not the name, as libpq does
    expect(await connects(at('127.0.0.1', 'sslmode=verify-ca'), { PGSSLROOTCERT: caPath() })).toBe(true);
  });

  it('refuses a server whose certificate another CA signed, with one line naming where the trusted CA came from', async () => {
    const result = await serveOnce({ SCIM_DATABASE_URL: at('localhost', 'sslmode=verify-full'), PGSSLROOTCERT: join(dir, 'other-ca.crt') });
    expect(result.code).toBe(1);
    const lines = result.output.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^scim-bridge: TLS to the database \(localhost\) failed: its certificate is not signed by a CA the bridge trusts \(PGSSLROOTCERT=.*other-ca\.crt/,
    );
    // and with no CA configured, a private CA is not among the public roots
    const publicRoots = await serveOnce({ SCIM_DATABASE_URL: at('localhost', 'sslmode=verify-full&sslrootcert=system') });
    expect(publicRoots.code).toBe(1);
    expect(publicRoots.output).toMatch(/not signed by a CA the bridge trusts \(sslrootcert=system/);
  });

  it('refuses a certificate that does not name the host connected to, with one line', async () => {
    const result = await serveOnce({ SCIM_DATABASE_URL: at('127.0.0.1', 'sslmode=verify-full'), PGSSLROOTCERT: caPath() });
    expect(result.code).toBe(1);
    expect(result.output.trim().split('\n')).toHaveLength(1);
    expect(result.output).toMatch(/^scim-bridge: TLS to the database failed: its certificate is not valid for the host name "127\.0\.0\.1"/);
  });

  it('sslmode=require encrypts without verifying (libpq), and the bridge says so in its log', async () => {
    const bridge = await spawnBridge({ SCIM_SESSION: serializeSession(session), SCIM_DATABASE_URL: at('127.0.0.1', 'sslmode=require'), LOG_LEVEL: 'warn' });
    try {
      expect((await fetch(`${bridge.url}/health`)).status).toBe(200);
      const warning = bridge
        .output()
        .split('\n')
        .find((line) => /sslmode=require/.test(line));
      expect(JSON.parse(warning!)).toMatchObject({ level: 40, msg: expect.stringMatching(/encrypts but verifies no certificate.*use sslmode=verify-full/) });
    } finally {
      bridge.child.kill('SIGTERM');
      await bridge.exited;
    }
    // Encrypted indeed: the server sees TLS on a connection made with the same settings.
    const client = new Client(connectionSettings(at('127.0.0.1', 'sslmode=require'), {}).pool);
    await client.connect();
    try {
      expect((await client.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows).toEqual([{ ssl: true }]);
    } finally {
      await client.end();
    }
  });

  it('refuses verify-full to a server without TLS with one line', async () => {
    const plain = new URL(POSTGRES_URL!);
    plain.hostname = 'localhost';
    plain.search = 'sslmode=verify-full';
    const result = await serveOnce({ SCIM_DATABASE_URL: plain.toString(), PGSSLROOTCERT: caPath() });
    expect(result.code).toBe(1);
    expect(result.output.trim()).toMatch(/^scim-bridge: the database server \(localhost\) does not accept TLS but sslmode=verify-full requires it/);
  });
});

describe('TLS settings (libpq meanings, where the CA comes from)', () => {
  const tlsOf = (url: string, env: NodeJS.ProcessEnv = {}) => connectionSettings(url, env).tls;

  it('verifies an Amazon RDS endpoint against the built-in RDS CA bundle when no CA is given', () => {
    const tls = tlsOf('postgres://u@scim.abc123.eu-west-1.rds.amazonaws.com/scim?sslmode=verify-full');
    expect(tls.caSource).toBe('the built-in Amazon RDS CA bundle');
    const ca = (tls.ssl as { ca: string[] }).ca;
    expect(ca.length).toBeGreaterThan(50);
    expect(ca.some((pem) => pem.includes('BEGIN CERTIFICATE'))).toBe(true);
    // an explicit CA wins over the built-in one
    expect(tlsOf('postgres://u@scim.abc.eu-west-1.rds.amazonaws.com/scim?sslmode=verify-full', { PGSSLROOTCERT: join(dir, 'test-ca.crt') }).caSource).toMatch(
      /^PGSSLROOTCERT=/,
    );
  });

  it('keeps require unverified and warns; sslrootcert=system needs verify-full; a bad CA file is named', () => {
    expect(tlsOf('postgres://u@db.example.com/scim?sslmode=require')).toMatchObject({
      ssl: { rejectUnauthorized: false },
      warnings: [expect.stringMatching(/verifies no certificate/)],
    });
    expect(tlsOf('postgres://u@db.example.com/scim')).toMatchObject({ mode: 'require', warnings: [expect.stringMatching(/verifies no certificate/)] });
    expect(tlsOf('postgres://u@db.example.com/scim?sslmode=verify-full&sslrootcert=system').warnings).toEqual([]);
    expect(() => tlsOf('postgres://u@db.example.com/scim?sslmode=require&sslrootcert=system')).toThrow(/sslrootcert=system needs sslmode=verify-full/);
    expect(() => tlsOf('postgres://u@db.example.com/scim?sslmode=verify-full', { PGSSLROOTCERT: '/nonexistent/ca.pem' })).toThrow(
      /PGSSLROOTCERT: cannot read \/nonexistent\/ca\.pem: ENOENT/,
    );
    expect(() => tlsOf('postgres://u@db.example.com/scim?sslmode=verify-full', { SCIM_DATABASE_CA_CERT: 'not a certificate' })).toThrow(
      /SCIM_DATABASE_CA_CERT holds no PEM certificate/,
    );
    expect(tlsOf('postgres://u@127.0.0.1/scim')).toMatchObject({ ssl: false, warnings: [] });
  });
});
