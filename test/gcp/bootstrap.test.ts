/**
 * The GCP role model on a real PostgreSQL set up the way Cloud SQL sets up users: a `cloudsqlsuperuser` role (not a
 * superuser, with CREATEROLE and CREATEDB), the database made through the API owned by it, and the API-made
 * administrator a member of it. The bundled bridge then runs exactly what the stack gives the bootstrap job (its
 * arguments and environment, secrets resolved) and then exactly what it gives the service: the app's role must come
 * out with no administrative right and no membership of `cloudsqlsuperuser`, and the bridge must start on it.
 *
 * The connection goes where the stack points it: the instance DNS name over verify-full with the CA bundle in
 * SCIM_DATABASE_CA_CERT (the child resolves that name to this suite's server, as the VPC's private zone would).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { createSession, serializeSession } from '../../bridge/src/session/scimsession';
import { BRIDGE_ENV } from '../../contract';
import type { CloudMocks, Run } from '../support/pulumi-harness';
import { runPulumiProgram } from '../support/pulumi-harness';
import { BUNDLE, spawnBridge } from '../support/process';
import { describePostgres } from '../support/postgres';
import { BASE, DB_DNS_NAME, DB_HOST, T, container, envOf, gcpMocks } from './mocks';
import { INSTANCE_CN, TlsPostgres, freePort, makeCa, makeServer, pem } from './pg';

/** The bundle knows `db bootstrap` once the store's command is in (bridge/src/cli/db.ts). */
const hasBootstrap = (() => {
  try {
    return /db bootstrap/.test(execFileSync(process.execPath, [BUNDLE, '--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch (error) {
    return /db bootstrap/.test(String((error as { stdout?: string }).stdout ?? ''));
  }
})();

const describeBootstrap = hasBootstrap
  ? describePostgres
  : (name: string, body: () => void) => describe.skip(`${name} (the bundle has no \`db bootstrap\` yet)`, body);

describeBootstrap('GCP: the bootstrap job and the service on a Cloud SQL-like role model', () => {
  const dir = mkdtempSync('/tmp/scim-bridge-gcp-boot-');
  let pg: TlsPostgres;
  let run: Run;

  /** Resolves a stack container's environment: secret references become the values Pulumi stored in them. */
  function resolvedEnv(env: Record<string, unknown>): Record<string, string> {
    const byId = new Map(run.ofType(T.secret).map((s) => [s.inputs.secretId, run.ofType(T.secretVersion).find((v) => v.name === s.name)!.inputs.secretData]));
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(env)) {
      const resolved = typeof value === 'string' ? value : byId.get((value as { secret: string }).secret);
      // Port 5432 is the endpoint's; here the suite's server listens elsewhere.
      out[name] = String(resolved).replace(`@${DB_HOST}:5432/`, `@${DB_HOST}:${pg.port}/`);
    }
    return out;
  }

  /** The instance DNS name resolves to loopback inside the child, as the private zone makes it resolve in the VPC. */
  function dnsPreload(): string {
    const file = join(dir, 'resolve-instance.js');
    writeFileSync(
      file,
      `const dns = require('node:dns'); const lookup = dns.lookup;
dns.lookup = (host, options, cb) => host === ${JSON.stringify(DB_HOST)} ? lookup('127.0.0.1', options, cb) : lookup(host, options, cb);`,
    );
    return `--require ${file}`;
  }

  beforeAll(async () => {
    makeCa(dir, 'root');
    makeCa(dir, 'regional', 'root');
    makeServer(dir, 'server', 'regional', INSTANCE_CN, `DNS:${DB_DNS_NAME}`);
    pg = new TlsPostgres(await freePort(), dir);
    pg.start(pem(dir, 'server') + pem(dir, 'regional'), 'server');
    // The stack, with the instance reporting this suite's CAs.
    const mocks: CloudMocks = {
      ...gcpMocks,
      answer: (token, inputs) =>
        token === 'gcp:sql/getCaCerts:getCaCerts'
          ? { ...gcpMocks.answer(token, inputs), certs: [{ cert: pem(dir, 'regional') }, { cert: pem(dir, 'root') }] }
          : gcpMocks.answer(token, inputs),
    };
    run = await runPulumiProgram(mocks, { config: BASE }, () => require('../../stacks/pulumi/gcp').deploy());
    // Cloud SQL's setup: cloudsqlsuperuser, the API-made database it owns, the API-made administrator its member.
    const adminUrl = new URL(resolvedEnv(envOf(run.one(T.job)))[BRIDGE_ENV.databaseAdminUrl]);
    const postgres = new Client({ host: '127.0.0.1', port: pg.port, user: 'postgres', database: 'postgres' });
    await postgres.connect();
    await postgres.query('CREATE ROLE cloudsqlsuperuser NOLOGIN CREATEROLE CREATEDB');
    await postgres.query(
      `CREATE ROLE scim_bridge_admin LOGIN CREATEROLE CREATEDB PASSWORD '${decodeURIComponent(adminUrl.password)}' IN ROLE cloudsqlsuperuser`,
    );
    await postgres.query('CREATE DATABASE scim_bridge OWNER cloudsqlsuperuser');
    await postgres.end();
  }, 90_000);

  afterAll(() => {
    pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function runBootstrap() {
    const job = run.one(T.job);
    return spawnSync(process.execPath, [BUNDLE, ...container(job).args], {
      env: { PATH: process.env.PATH, NODE_OPTIONS: dnsPreload(), ...resolvedEnv(envOf(job)) },
      encoding: 'utf8',
      timeout: 30_000,
    });
  }

  test('the job makes the app role: able to sign in with the generated password, no administrative right, not a cloudsqlsuperuser member', async () => {
    const result = runBootstrap();
    expect([result.status, result.stderr]).toEqual([0, expect.any(String)]);
    const postgres = new Client({ host: '127.0.0.1', port: pg.port, user: 'postgres', database: 'postgres' });
    await postgres.connect();
    const { rows } = await postgres.query(
      `SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolcanlogin, pg_has_role('scim_bridge', 'cloudsqlsuperuser', 'MEMBER') AS member
       FROM pg_roles WHERE rolname = 'scim_bridge'`,
    );
    await postgres.end();
    expect(rows).toEqual([{ rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolbypassrls: false, rolcanlogin: true, member: false }]);
  });

  test('a second execution (the next deploy) succeeds and changes nothing', () => {
    expect(runBootstrap().status).toBe(0);
  });

  test('the service, with its own environment only (no administrator URL), migrates and serves as the app role', async () => {
    const env = resolvedEnv(envOf(run.one(T.service)));
    expect(env).not.toHaveProperty(BRIDGE_ENV.databaseAdminUrl);
    const { session, token } = createSession();
    const sessionFile = join(dir, 'scimsession');
    writeFileSync(sessionFile, serializeSession(session));
    const bridge = await spawnBridge({ ...env, [BRIDGE_ENV.sessionFile]: sessionFile, NODE_OPTIONS: dnsPreload() });
    try {
      expect((await fetch(`${bridge.url}/health`)).status).toBe(200);
      const created = await fetch(`${bridge.url}/scim/v2/Users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
        body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'ada@example.com', active: true }),
      });
      expect(created.status).toBe(201);
    } finally {
      bridge.child.kill('SIGTERM');
      await bridge.exited;
    }
  });
});
