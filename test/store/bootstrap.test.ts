/**
 * `scim-bridge db bootstrap` on a real PostgreSQL 15 set up the way the managed services set theirs up, with
 * passwords that count (scram-sha-256 in pg_hba.conf), run as the real CLI (the bundle):
 *
 * - DigitalOcean: `doadmin` owns the databases and has CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS but is no
 *   superuser; a user made through the API gets "minimal permissions" and, on PostgreSQL ≥ 15, no CREATE on
 *   `public` (https://docs.digitalocean.com/products/databases/postgresql/how-to/manage-users-and-databases/,
 *   .../how-to/modify-user-privileges/).
 * - Azure Flexible Server: the server admin is a member of `azure_pg_admin` with LOGIN, NOSUPERUSER, CREATEDB,
 *   CREATEROLE, REPLICATION (https://learn.microsoft.com/azure/postgresql/security/security-access-control); no
 *   app role exists yet.
 * - Amazon RDS: the master user is in `rds_superuser` with CREATEROLE and CREATEDB, NOSUPERUSER
 *   (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.PostgreSQL.CommonDBATasks.Roles.rds_superuser.html);
 *   a deployment that so far connected as the master already holds the bridge's tables in `public`.
 * - Cloud SQL: API-made users are members of `cloudsqlsuperuser` with CREATEROLE and CREATEDB
 *   (https://cloud.google.com/sql/docs/postgres/users): bootstrap takes those away from the bridge's role.
 */
import { spawn } from 'node:child_process';
import { Client } from 'pg';
import { createSession, serializeSession } from '../../bridge/src/session/scimsession';
import { BUNDLE, freePort, spawnBridge } from '../support/process';
import { type PrivateCluster, describePostgres, privateCluster } from '../support/postgres';

const HBA = ['local all all trust', 'host all postgres 127.0.0.1/32 trust', 'host all all 127.0.0.1/32 scram-sha-256', ''].join('\n');
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const { session, token } = createSession();

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [BUNDLE, ...args], { env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

describePostgres('scim-bridge db bootstrap on managed-service role models', () => {
  let cluster: PrivateCluster;
  let su: Client;
  const url = (role: string, password: string, database: string) => `postgres://${role}:${encodeURIComponent(password)}@127.0.0.1:${cluster.port}/${database}`;
  const sql = (text: string, params: unknown[] = []) => su.query(text, params);
  const bootstrap = (adminUrl: string, appUrl: string) => runCli(['db', 'bootstrap'], { SCIM_DATABASE_ADMIN_URL: adminUrl, SCIM_DATABASE_URL: appUrl });

  beforeAll(async () => {
    cluster = privateCluster(await freePort(), { hba: HBA });
    su = new Client({ connectionString: cluster.url });
    await su.connect();
  });
  afterAll(async () => {
    await su?.end();
    cluster?.destroy();
  });

  /** What pg_roles and pg_auth_members say about the bridge's role. */
  async function privileges(role: string) {
    const attributes = (
      await sql('SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = $1', [role])
    ).rows[0];
    const memberOf = (
      await sql(
        'SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = $1) ORDER BY 1',
        [role],
      )
    ).rows.map((r) => r.rolname);
    const members = (
      await sql(
        'SELECT u.rolname FROM pg_auth_members m JOIN pg_roles u ON u.oid = m.member WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = $1) ORDER BY 1',
        [role],
      )
    ).rows.map((r) => r.rolname);
    return { attributes, memberOf, members };
  }

  const LEAST = { rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolreplication: false, rolbypassrls: false, rolcanlogin: true };

  async function servesAs(appUrl: string, userName: string) {
    const bridge = await spawnBridge({ SCIM_SESSION: serializeSession(session), SCIM_DATABASE_URL: appUrl });
    try {
      const created = await fetch(`${bridge.url}/scim/v2/Users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
        body: JSON.stringify({ schemas: [USER], userName }),
      });
      expect(created.status).toBe(201);
      const found = await fetch(`${bridge.url}/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return ((await found.json()) as { totalResults: number }).totalResults;
    } finally {
      bridge.child.kill('SIGTERM');
      await bridge.exited;
    }
  }

  it('DigitalOcean: doadmin (CREATEROLE, not superuser) and an API-made user with no grants', async () => {
    await sql(`CREATE ROLE doadmin LOGIN CREATEROLE CREATEDB REPLICATION BYPASSRLS PASSWORD 'admin-pw'`);
    await sql('CREATE DATABASE defaultdb OWNER doadmin');
    await sql('CREATE DATABASE scim_do OWNER doadmin');
    await sql(`CREATE ROLE do_app LOGIN PASSWORD 'do-made-password'`); // made by the platform's API, as a superuser would
    const adminUrl = url('doadmin', 'admin-pw', 'defaultdb');
    const appUrl = url('do_app', 'do-made-password', 'scim_do');

    // Before bootstrap the bridge cannot create its tables: it exits with one line that names the privilege and the fix.
    const refused = await runCli(['serve'], { SCIM_SESSION: serializeSession(session), SCIM_DATABASE_URL: appUrl, PORT: '0', HOST: '127.0.0.1' });
    expect(refused.code).toBe(1);
    const lines = refused.output
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('{'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/permission denied for schema public/);
    expect(lines[0]).toMatch(/scim-bridge db bootstrap/);

    const first = await bootstrap(adminUrl, appUrl);
    expect(first.code).toBe(0);
    expect(first.output).toMatch(/role "do_app" exists/);
    expect(first.output).toMatch(/may create tables in schema "do_app"/);
    const second = await bootstrap(adminUrl, appUrl);
    expect(second.code).toBe(0);
    expect(second.output).not.toMatch(/created|set the password|removed|handed/);

    expect(await privileges('do_app')).toEqual({ attributes: LEAST, memberOf: [], members: [] });
    expect(await servesAs(appUrl, 'ada@example.com')).toBe(1);
    // The tables are the app's own, in its schema; the app role can do nothing administrative.
    const app = new Client({ connectionString: appUrl });
    await app.connect();
    try {
      expect((await app.query(`SELECT DISTINCT schemaname, tableowner FROM pg_tables WHERE tablename IN ('users', 'events', 'leases')`)).rows).toEqual([
        { schemaname: 'do_app', tableowner: 'do_app' },
      ]);
      await expect(app.query('CREATE ROLE sneaky')).rejects.toThrow(/permission denied/);
      await expect(app.query('CREATE DATABASE sneaky')).rejects.toThrow(/permission denied/);
      await expect(app.query('CREATE TABLE public.sneaky (x int)')).rejects.toThrow(/permission denied for schema public/);
    } finally {
      await app.end();
    }
  });

  it('Azure: a server admin in azure_pg_admin, no app role yet; a wrong password is corrected on the next run', async () => {
    await sql('CREATE ROLE azure_pg_admin NOLOGIN');
    await sql(`CREATE ROLE azadmin LOGIN CREATEDB CREATEROLE REPLICATION PASSWORD 'az-pw' IN ROLE azure_pg_admin`);
    await sql('CREATE DATABASE scim_az OWNER azure_pg_admin');
    await sql('REVOKE CONNECT ON DATABASE scim_az FROM PUBLIC');
    const adminUrl = url('azadmin', 'az-pw', 'postgres');
    const appUrl = url('scim_bridge_app', "it's a p@ss/word", 'scim_az');

    const first = await bootstrap(adminUrl, appUrl);
    expect(first.code).toBe(0);
    expect(first.output).toMatch(/created role "scim_bridge_app" \(LOGIN only\)/);
    expect((await bootstrap(adminUrl, appUrl)).code).toBe(0);
    expect(await privileges('scim_bridge_app')).toEqual({ attributes: LEAST, memberOf: [], members: [] });
    // The password was set as a SCRAM verifier, never as text in a statement.
    expect((await sql(`SELECT rolpassword FROM pg_authid WHERE rolname = 'scim_bridge_app'`)).rows[0].rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);
    expect(await servesAs(appUrl, 'grace@example.com')).toBe(1);

    // Passwords given as variables of their own (as ECS and Container Apps inject secrets) instead of in the URLs.
    const separate = await runCli(['db', 'bootstrap'], {
      SCIM_DATABASE_ADMIN_URL: `postgres://azadmin@127.0.0.1:${cluster.port}/postgres`,
      SCIM_DATABASE_ADMIN_PASSWORD: 'az-pw',
      SCIM_DATABASE_URL: `postgres://scim_bridge_app@127.0.0.1:${cluster.port}/scim_az`,
      PGPASSWORD: "it's a p@ss/word",
    });
    expect(separate).toMatchObject({ code: 0, output: expect.stringMatching(/role "scim_bridge_app" is ready/) });
    expect(separate.output).not.toMatch(/set the password/);

    // Someone changed the role's password: the next bootstrap sets the one in SCIM_DATABASE_URL again.
    await sql(`ALTER ROLE scim_bridge_app PASSWORD 'something else'`);
    const fixed = await bootstrap(adminUrl, appUrl);
    expect(fixed.code).toBe(0);
    expect(fixed.output).toMatch(/set the password of role "scim_bridge_app"/);
    expect(await servesAs(appUrl, 'katherine@example.com')).toBe(1);
  });

  it('Amazon RDS: a master in rds_superuser whose earlier deployment left the tables in public: they are handed to the app role', async () => {
    await sql('CREATE ROLE rds_superuser NOLOGIN');
    await sql(`CREATE ROLE rdsmaster LOGIN CREATEROLE CREATEDB PASSWORD 'rds-pw' IN ROLE rds_superuser`);
    await sql('CREATE DATABASE scim_rds OWNER rdsmaster');
    const masterUrl = url('rdsmaster', 'rds-pw', 'scim_rds');
    expect(await servesAs(masterUrl, 'before@example.com')).toBe(1); // the old way: the bridge connected as the master

    const appUrl = url('scim_bridge_app_rds', 'app-secret', 'scim_rds');
    const result = await bootstrap(url('rdsmaster', 'rds-pw', 'postgres'), appUrl);
    expect(result.code).toBe(0);
    expect(result.output).toMatch(/handed the bridge's \d+ existing tables in "public" \(owned by "rdsmaster"\)/);
    expect((await bootstrap(url('rdsmaster', 'rds-pw', 'postgres'), appUrl)).code).toBe(0);
    expect(await privileges('scim_bridge_app_rds')).toEqual({ attributes: LEAST, memberOf: [], members: [] });
    // The directory written as the master is the one the app role now serves and writes.
    expect(await servesAs(appUrl, 'after@example.com')).toBe(1);
    const check = new Client({ connectionString: appUrl });
    await check.connect();
    try {
      expect((await check.query(`SELECT count(*)::int AS n FROM users WHERE user_name_lc IN ('before@example.com', 'after@example.com')`)).rows[0].n).toBe(2);
    } finally {
      await check.end();
    }
  });

  it('Cloud SQL: takes CREATEROLE, CREATEDB and cloudsqlsuperuser away from an API-made role the bridge is to use', async () => {
    await sql('CREATE ROLE cloudsqlsuperuser NOLOGIN CREATEROLE CREATEDB');
    await sql(`CREATE ROLE sqladmin LOGIN CREATEROLE CREATEDB PASSWORD 'gcp-pw' IN ROLE cloudsqlsuperuser`);
    await sql(`CREATE ROLE gcp_app LOGIN CREATEROLE CREATEDB PASSWORD 'gcp-app' IN ROLE cloudsqlsuperuser`);
    await sql('CREATE DATABASE scim_gcp OWNER cloudsqlsuperuser');
    const result = await bootstrap(url('sqladmin', 'gcp-pw', 'postgres'), url('gcp_app', 'gcp-app', 'scim_gcp'));
    expect(result.code).toBe(0);
    expect(result.output).toMatch(/removed CREATEROLE from role "gcp_app"/);
    expect(result.output).toMatch(/removed role "gcp_app" from "cloudsqlsuperuser"/);
    expect(await privileges('gcp_app')).toEqual({ attributes: LEAST, memberOf: [], members: [] });
    expect(await servesAs(url('gcp_app', 'gcp-app', 'scim_gcp'), 'dorothy@example.com')).toBe(1);
  });

  it('refuses, with one line, an app URL that is the administrator and an administrator without CREATEROLE', async () => {
    await sql(`CREATE ROLE plainadmin LOGIN PASSWORD 'plain'`);
    const same = await bootstrap(url('doadmin', 'admin-pw', 'defaultdb'), url('doadmin', 'admin-pw', 'scim_do'));
    expect(same.code).toBe(1);
    expect(same.output.trim()).toMatch(/^scim-bridge: SCIM_DATABASE_URL uses the administrator's role "doadmin"/);
    const weak = await bootstrap(url('plainadmin', 'plain', 'postgres'), url('someone', 'pw', 'scim_do'));
    expect(weak.code).toBe(1);
    expect(weak.output.trim()).toMatch(/^scim-bridge: the administrator role "plainadmin" has no CREATEROLE/);
    expect(weak.output.trim().split('\n')).toHaveLength(1);
    const missing = await runCli(['db', 'bootstrap'], { SCIM_DATABASE_URL: url('x', 'y', 'z') });
    expect(missing.output.trim()).toMatch(/SCIM_DATABASE_ADMIN_URL is not set/);
  });
});
