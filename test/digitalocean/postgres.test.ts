/**
 * DigitalOcean's role model on a real PostgreSQL 15, set up the way Managed PostgreSQL sets up a cluster: `doadmin`
 * with CREATEROLE and CREATEDB (not a superuser) owns the databases; a user made through the API logs in and has no
 * grants ("new users get minimal permissions"; PostgreSQL 15 no longer grants CREATE on schema public to everyone).
 * The server checks passwords (scram-sha-256 over TCP, as a managed server does), so a mis-encoded password in a URL
 * fails here. The URLs are the ones the component builds (from a mock run), pointed at this server.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { parse } from 'pg-connection-string';
import { Client } from 'pg';
import { BRIDGE_ENV } from '../../contract';
import { postgresUrl } from '../../constructs/digitalocean';
import { describePostgres } from '../support/postgres';
import { freePort } from '../support/process';
import { ADMIN_PASSWORD, BASE_CONFIG, envOf, jobOf, runDigitalOceanStack, serviceOf } from './mocks';

test('every password, user and database survives the URL the component builds, as node-postgres parses it', () => {
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 40, unit: 'binary' }), fc.stringMatching(/^[a-z_][a-z0-9_]{0,20}$/), (password, database) => {
      const parsed = parse(postgresUrl({ user: 'doadmin', password, host: 'private-db.example.com', port: 25060, database }));
      expect(parsed.password).toBe(password);
      expect(parsed.user).toBe('doadmin');
      expect(parsed.database).toBe(database);
      expect(parsed.host).toBe('private-db.example.com');
      expect(parsed.port).toBe('25060');
    }),
    { numRuns: 300 },
  );
});

const APP_PASSWORD = 'AVNS_app-password-1';
const SUPERUSER_PASSWORD = 'postgres-test-password';

/** A server of this suite's own that checks passwords over TCP (the shared test server trusts every login). */
async function passwordCheckingServer() {
  const bin = process.env.SCIM_TEST_PGBIN;
  if (!bin) throw new Error('SCIM_TEST_PGBIN is needed (source .ci/postgres.sh)');
  const port = await freePort();
  const data = mkdtempSync('/tmp/scim-bridge-do-pg-');
  const root = process.getuid?.() === 0;
  const asPg = (command: string, args: string[]) =>
    root ? execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], { stdio: 'ignore' }) : execFileSync(command, args, { stdio: 'ignore' });
  const pwfile = `${data}/pw`;
  writeFileSync(pwfile, SUPERUSER_PASSWORD);
  if (root) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    chownSync(data, uid, uid);
    chownSync(pwfile, uid, uid);
  }
  asPg(`${bin}/initdb`, ['-D', `${data}/db`, '--auth-local=trust', '--auth-host=scram-sha-256', '-U', 'postgres', `--pwfile=${pwfile}`]);
  asPg(`${bin}/pg_ctl`, ['-D', `${data}/db`, '-w', '-l', `${data}/server.log`, '-o', `-p ${port} -k /tmp -c listen_addresses=127.0.0.1`, 'start']);
  return {
    url: `postgres://postgres:${SUPERUSER_PASSWORD}@127.0.0.1:${port}/postgres`,
    host: `127.0.0.1:${port}`,
    destroy() {
      try {
        asPg(`${bin}/pg_ctl`, ['-D', `${data}/db`, '-w', '-m', 'immediate', 'stop']);
      } finally {
        rmSync(data, { recursive: true, force: true });
      }
    },
  };
}

/** Connects with `connectionString`; `pgPassword` plays App Platform's `${db.PASSWORD}` in PGPASSWORD. */
async function asUser<T>(connectionString: string, work: (c: Client) => Promise<T>, pgPassword?: string): Promise<T> {
  const saved = process.env[BRIDGE_ENV.pgPassword];
  if (pgPassword === undefined) delete process.env[BRIDGE_ENV.pgPassword];
  else process.env[BRIDGE_ENV.pgPassword] = pgPassword;
  const client = new Client({ connectionString });
  try {
    await client.connect();
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
    if (saved === undefined) delete process.env[BRIDGE_ENV.pgPassword];
    else process.env[BRIDGE_ENV.pgPassword] = saved;
  }
}

describePostgres('a DigitalOcean-like cluster on PostgreSQL 15', () => {
  const names = { admin: 'doadmin', app: 'scim_bridge', appDb: 'scim_bridge', defaultDb: 'defaultdb' };
  let server: Awaited<ReturnType<typeof passwordCheckingServer>>;
  let adminUrl: string;
  let appUrl: string;
  /** A URL of the component's, pointed at this server, without TLS (this server has none; TLS is the store's suite). */
  const local = (url: string) => {
    const u = new URL(url);
    u.host = server.host;
    u.searchParams.set('sslmode', 'disable');
    return u.toString();
  };

  beforeAll(async () => {
    server = await passwordCheckingServer();
    await asUser(server.url, async (c) => {
      await c.query(`CREATE ROLE ${names.admin} LOGIN CREATEROLE CREATEDB PASSWORD '${ADMIN_PASSWORD.replace(/'/g, "''")}'`);
      await c.query(`CREATE DATABASE ${names.defaultDb} OWNER ${names.admin}`);
      await c.query(`CREATE DATABASE ${names.appDb} OWNER ${names.admin}`);
      // What DatabaseUser makes through the API: a login and nothing else.
      await c.query(`CREATE ROLE ${names.app} LOGIN PASSWORD '${APP_PASSWORD}'`);
    });
    // The URLs the component hands the job and the service, with this cluster's names.
    const run = await runDigitalOceanStack(BASE_CONFIG);
    const rename = (url: string, user: string) => {
      const u = new URL(url);
      u.username = user;
      u.pathname = `/${names.appDb}`;
      return local(u.toString());
    };
    adminUrl = rename(envOf(jobOf(run), BRIDGE_ENV.databaseAdminUrl).value, names.admin);
    appUrl = rename(envOf(serviceOf(run), BRIDGE_ENV.databaseUrl).value, names.app);
  });

  afterAll(() => server?.destroy());

  test('the server refuses a wrong password (so the URLs below are really checked)', async () => {
    const wrong = new URL(adminUrl);
    wrong.password = 'not-it';
    await expect(asUser(wrong.toString(), (c) => c.query('SELECT 1'))).rejects.toThrow(/password authentication failed/);
  });

  test("the first deploy's failure, reproduced: the API-made role cannot create the bridge's tables", async () => {
    const error = await asUser(
      appUrl,
      (c) =>
        c.query('CREATE TABLE probe (id int)').then(
          () => undefined,
          (e: Error & { code?: string }) => e,
        ),
      APP_PASSWORD,
    );
    expect(error?.code).toBe('42501');
    expect(error?.message).toMatch(/permission denied for schema public/);
  });

  test('the service URL has no password: node-postgres takes it from PGPASSWORD (the ${db.PASSWORD} bind variable)', async () => {
    const who = await asUser(appUrl, (c) => c.query('SELECT current_user AS u, current_database() AS d'), APP_PASSWORD);
    expect(who.rows[0]).toEqual({ u: names.app, d: names.appDb });
    await expect(asUser(appUrl, (c) => c.query('SELECT 1'), 'not-it')).rejects.toThrow(/password authentication failed/);
  });

  test("the job's admin URL (a password that needs encoding) reaches the app's database as doadmin, not a superuser", async () => {
    const who = await asUser(adminUrl, (c) =>
      c.query('SELECT current_user AS u, current_database() AS d, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS s'),
    );
    expect(who.rows[0]).toEqual({ u: names.admin, d: names.appDb, s: false });
  });

  test("a grant in the cluster's default database (where doadmin's own URI points) does not help: schema grants are per database", async () => {
    const defaultDbUrl = new URL(adminUrl);
    defaultDbUrl.pathname = `/${names.defaultDb}`;
    await asUser(defaultDbUrl.toString(), (c) => c.query(`GRANT CREATE ON SCHEMA public TO ${names.app}`));
    const stillDenied = await asUser(appUrl, (c) => c.query("SELECT has_schema_privilege(current_user, 'public', 'CREATE') AS ok"), APP_PASSWORD);
    expect(stillDenied.rows[0].ok).toBe(false);
  });

  test("doadmin, through the job's URL, can give the role what the bridge needs in the app's database", async () => {
    // The owner of the database owns schema public on PostgreSQL 15 (pg_database_owner): doadmin may grant on it.
    await asUser(adminUrl, (c) => c.query(`GRANT USAGE, CREATE ON SCHEMA public TO ${names.app}`));
    await asUser(appUrl, (c) => c.query('CREATE TABLE probe (id int)'), APP_PASSWORD);
    const owner = await asUser(adminUrl, (c) => c.query("SELECT tableowner FROM pg_tables WHERE tablename = 'probe'"));
    expect(owner.rows[0].tableowner).toBe(names.app);
  });
});
