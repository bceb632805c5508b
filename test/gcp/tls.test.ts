/**
 * Verified TLS to Cloud SQL as the GCP stack wires it, on a real PostgreSQL serving certificates shaped like Cloud
 * SQL's: the bridge's own connection settings (poolConfig) read the URL the stack builds (the instance's DNS name,
 * `sslmode=verify-full`) and the CA bundle the stack builds from the instance's `serverCaCerts`.
 *
 * - Shared CA (GOOGLE_MANAGED_CAS_CA, what the stack chooses): root → regional subordinate → server certificate whose
 *   SAN is the instance DNS name *with a trailing dot*, as Cloud SQL issues them (cloud-sql-go-connector README: Go
 *   1.25.2 rejected exactly that). Node accepts it; a wrong CA, a bundle without its root, a wrong name are refused.
 * - Per-instance CA (GOOGLE_MANAGED_INTERNAL_CA, the API default): the certificate names only `project:instance` in
 *   its CN, so verify-full against any host name fails; that is why the stack does not use it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { poolConfig } from '../../bridge/src/store/postgres';
import { caBundle, postgresUrl } from '../../constructs/gcp/platform';
import { describePostgres } from '../support/postgres';
import { DB_DNS_NAME, DB_HOST } from './mocks';
import { INSTANCE_CN, TlsPostgres, freePort, makeCa, makeServer, pem } from './pg';

describePostgres('GCP: verify-full to Cloud SQL over Private Service Connect, on a real PostgreSQL', () => {
  const dir = mkdtempSync('/tmp/scim-bridge-gcp-tls-');
  let pg: TlsPostgres;
  let wrongServer: TlsPostgres;

  beforeAll(async () => {
    // The shared CA hierarchy, a server certificate as Cloud SQL issues them, and unrelated CAs.
    makeCa(dir, 'root');
    makeCa(dir, 'regional', 'root');
    makeServer(dir, 'server', 'regional', INSTANCE_CN, `DNS:${DB_DNS_NAME}`);
    makeCa(dir, 'other-root');
    // A per-instance CA and its certificate: CN project:instance, no DNS name.
    makeCa(dir, 'instance-ca');
    makeServer(dir, 'legacy', 'instance-ca', INSTANCE_CN);
    pg = new TlsPostgres(await freePort(), dir);
    pg.start(pem(dir, 'server') + pem(dir, 'regional'), 'server');
    wrongServer = new TlsPostgres(await freePort(), dir);
    wrongServer.start(pem(dir, 'legacy'), 'legacy');
    for (const port of [pg.port, wrongServer.port]) {
      const admin = new Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
      await admin.connect();
      await admin.query('CREATE ROLE scim_bridge LOGIN');
      await admin.query('CREATE DATABASE scim_bridge OWNER scim_bridge');
      await admin.end();
    }
  }, 60_000);

  afterAll(() => {
    pg?.stop();
    wrongServer?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Connects with the bridge's own settings for `url` and the CA bundle, as a replica on Cloud Run would: the DNS
   * name resolves (in the VPC's private zone) to the endpoint, here the suite's PostgreSQL.
   */
  async function connect(url: string, bundle: string, port = pg.port): Promise<string> {
    const caFile = join(dir, `bundle-${Math.random().toString(36).slice(2)}.pem`);
    writeFileSync(caFile, bundle);
    const config = poolConfig(url, { PGSSLROOTCERT: caFile });
    const toEndpoint = () => {
      const socket = new Socket();
      const connect = socket.connect.bind(socket) as (port: number, host: string) => Socket;
      (socket as unknown as { connect: () => Socket }).connect = () => connect(port, '127.0.0.1');
      return socket;
    };
    const client = new Client({ ...config, stream: toEndpoint } as never);
    try {
      await client.connect();
      const { rows } = await client.query('SELECT current_user AS who, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      return `${rows[0].who} ssl=${rows[0].ssl}`;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  const appUrl = postgresUrl('scim_bridge', DB_HOST, 'scim_bridge');
  /** What the stack gives the bridge from `serverCaCerts` (the subordinate and the root). */
  const stackBundle = () => caBundle([{ cert: pem(dir, 'regional') }, { cert: pem(dir, 'root') }]);

  test('the URL and CA bundle the stack builds verify the server (trailing-dot SAN included) and the session is encrypted', async () => {
    expect(appUrl).toContain('sslmode=verify-full');
    expect(await connect(appUrl, stackBundle())).toBe('scim_bridge ssl=true');
  });

  test('a CA that did not sign the server certificate is refused', async () => {
    await expect(connect(appUrl, pem(dir, 'other-root'))).rejects.toThrow(/self[- ]signed|unable to (get|verify)/i);
  });

  test('the subordinate CA alone is refused: the bundle must hold the root the instance lists', async () => {
    await expect(connect(appUrl, pem(dir, 'regional'))).rejects.toThrow(/unable to get issuer|unable to verify|self[- ]signed/i);
  });

  test('a host name the certificate does not carry is refused', async () => {
    await expect(connect(postgresUrl('scim_bridge', 'other.a1b2c3d4e5f6.europe-west1.sql.goog', 'scim_bridge'), stackBundle())).rejects.toThrow(
      /does not match|altnames/i,
    );
  });

  test('a per-instance CA certificate (CN project:instance, no DNS name) cannot pass verify-full, whatever name is used', async () => {
    await expect(connect(appUrl, pem(dir, 'instance-ca'), wrongServer.port)).rejects.toThrow(/does not match|altnames/i);
    await expect(connect(postgresUrl('scim_bridge', INSTANCE_CN.replace(':', '.'), 'scim_bridge'), pem(dir, 'instance-ca'), wrongServer.port)).rejects.toThrow(
      /does not match|altnames/i,
    );
  });
});
