/**
 * What the bridge makes of the database settings the template gives its containers: the synthesized
 * SCIM_DATABASE_URL, PGSSLROOTCERT, PGPASSWORD and SCIM_DATABASE_ADMIN_URL, fed to the bridge's own PostgreSQL
 * settings parser (bridge/src/store/postgres.ts), the one a task runs. Tokens the deploy fills in (the endpoint, the
 * dynamic references) are replaced by plausible values; the CA path is pointed at a file of the test's.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { poolConfig } from '../../bridge/src/store/postgres';
import { BRIDGE_ENV, BRIDGE_IMAGE } from '../../contract';
import { build, container, envOf, idByPath, template } from './helpers';

const HOST = 'scimbridge-db.abc123.us-east-1.rds.amazonaws.com';
const ADMIN_PASSWORD = 'Zx9-k.Q_7mW2pL0vB8nR4tY6uI1oE3aS';

/** Renders a template string value as the deploy would (endpoint attributes, dynamic references). */
function render(value: unknown, caPath: string): string {
  const part = (p: any): string => {
    if (typeof p === 'string') return p;
    if (p?.['Fn::GetAtt']?.[1] === 'Endpoint.Address') return HOST;
    if (p?.['Fn::GetAtt']?.[1] === 'Endpoint.Port') return '5432';
    if (p?.['Fn::Join']) return p['Fn::Join'][1].map(part).join(p['Fn::Join'][0]);
    if (p?.Ref) return p.Ref; // a secret's ARN inside a dynamic reference
    throw new Error(`cannot render ${JSON.stringify(p)}`);
  };
  return part(value)
    .replace(/\{\{resolve:secretsmanager:[^}]*:SecretString:username::\}\}/g, 'scim_admin')
    .replace(/\{\{resolve:secretsmanager:[^}]*:SecretString:password::\}\}/g, ADMIN_PASSWORD)
    .replaceAll(BRIDGE_IMAGE.caBundles.awsRds, caPath);
}

let t: Template;
let caPath: string;
// The bundle the image carries (npm run build writes it before the suites run).
const CA = fs.readFileSync(path.join(__dirname, '..', '..', 'dist', 'certs', 'aws-rds-ca-bundle.pem'), 'utf8').trim();
beforeAll(() => {
  t = template(build());
  caPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rds-ca-')), 'bundle.pem');
  fs.writeFileSync(caPath, CA);
});

it('the bridge connects to the RDS endpoint as scim_bridge, password from PGPASSWORD, with verify-full against the bundle', () => {
  const env = envOf(container(t, 'bridge'));
  const url = render(env[BRIDGE_ENV.databaseUrl], caPath);
  const config = poolConfig(url, { [BRIDGE_ENV.pgSslRootCert]: render(env[BRIDGE_ENV.pgSslRootCert], caPath), [BRIDGE_ENV.pgPassword]: 'app-password' });
  expect(config).toMatchObject({ host: HOST, port: 5432, user: 'scim_bridge', database: 'scim_bridge' });
  // No password in the URL: node-postgres takes PGPASSWORD, which ECS injects from the app's secret.
  expect(config.password).toBeUndefined();
  // verify-full: the certificate must chain to the bundle and name the host (no checkServerIdentity override).
  expect(config.ssl).toEqual({ rejectUnauthorized: true, ca: CA });
});

it('the bootstrap step gets a complete administrator URL (scim_admin, its password, the same TLS) and the app URL', () => {
  const c = container(t, 'db-bootstrap');
  const adminSecret = t.findResources('AWS::SecretsManager::Secret')[idByPath(t, 'Database/AdminUrl/Resource')].Properties.SecretString;
  const adminUrl = render(adminSecret, caPath);
  expect(new URL(adminUrl).password).toBe(ADMIN_PASSWORD);
  const env = { [BRIDGE_ENV.pgSslRootCert]: caPath, [BRIDGE_ENV.pgPassword]: 'app-password' };
  const admin = poolConfig(adminUrl, env);
  expect(admin).toMatchObject({
    host: HOST,
    port: 5432,
    user: 'scim_admin',
    password: ADMIN_PASSWORD,
    database: 'scim_bridge',
    ssl: { rejectUnauthorized: true, ca: CA },
  });
  const app = poolConfig(render(envOf(c)[BRIDGE_ENV.databaseUrl], caPath), env);
  expect(app).toMatchObject({ user: 'scim_bridge', ssl: { rejectUnauthorized: true, ca: CA } });
});

// The bridge's message for this case names the URL, not the missing file (reported to the store engineer).
it('a missing CA bundle is an error at start, not a silent unverified connection', () => {
  const env = envOf(container(t, 'bridge'));
  const url = render(env[BRIDGE_ENV.databaseUrl], caPath);
  expect(() => poolConfig(url.replace(caPath, '/nonexistent/bundle.pem'), { [BRIDGE_ENV.pgSslRootCert]: '/nonexistent/bundle.pem' })).toThrow();
});
