/**
 * GCP findings of issue 26 ("Day two on every cloud"), each against the provider's own words:
 * - Direct VPC egress "might experience connection establishment delays of a minute or more on instance startup";
 *   Google asks for a startup probe whose period and threshold act as the retry
 *   (cloud.google.com/run/docs/configuring/vpc-direct-vpc, Limitations). Cloud Run caps a service's startup probe at
 *   240 s (failureThreshold × periodSeconds; cloud.google.com/run/docs/configuring/healthchecks).
 * - A Cloud SQL instance's `serverCaCerts` holds the current server CA only; `sql.getCaCerts` (instances.listServerCas)
 *   lists the upcoming ones too (registry.terraform.io/providers/hashicorp/google/latest/docs/data-sources/sql_ca_certs),
 *   so a bundle built from `serverCaCerts` fails verify-full after a rotation until the state is refreshed.
 * - A connection budget that does not fit refuses, as DigitalOcean and Azure do; a Direct VPC egress subnet takes about
 *   two addresses per instance (vpc-direct-vpc, IP address allocation), so maxReplicas must fit the subnet.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BRIDGE_ENV, BRIDGE_PATHS } from '../../contract';
import { BASE, CA_BUNDLE, T, UPCOMING_CA, container, envOf, runGcpStack } from './mocks';

async function failure(config: Record<string, string>): Promise<string> {
  try {
    await runGcpStack({ config });
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the stack to refuse this configuration');
}

test('the startup probe on /health tolerates Direct VPC egress connecting a minute or more late, within Cloud Run’s 240 s ceiling', async () => {
  const run = await runGcpStack({ config: BASE });
  const probe = container(run.one(T.service)).startupProbe;
  expect(probe.httpGet.path).toBe(BRIDGE_PATHS.readiness);
  const window = probe.periodSeconds * probe.failureThreshold;
  // The bridge's own 60 s grace plus the documented minute or more of egress delay.
  expect(window).toBeGreaterThanOrEqual(180);
  expect(window).toBeLessThanOrEqual(240);
  expect(probe.timeoutSeconds).toBeLessThan(probe.periodSeconds);
});

test('the database CA bundle holds every CA sql.getCaCerts lists, the upcoming one included, read on every run', async () => {
  const run = await runGcpStack({ config: BASE });
  const bundle = envOf(run.one(T.service))[BRIDGE_ENV.databaseCaCert];
  expect(bundle).toBe(CA_BUNDLE);
  expect(bundle).toContain(UPCOMING_CA);
  expect(envOf(run.one(T.job))[BRIDGE_ENV.databaseCaCert]).toBe(CA_BUNDLE);
  const read = run.invokes.filter((i) => i.token === 'gcp:sql/getCaCerts:getCaCerts');
  expect(read.length).toBeGreaterThan(0);
  expect(read[0].inputs.instance).toBe(run.one(T.sqlInstance).inputs.name);
});

test('a maxReplicas the database tier cannot serve during a rolling deploy is refused, not only warned about', async () => {
  expect(await failure({ ...BASE, maxReplicas: '20' })).toMatch(
    /^scim-bridge:maxReplicas 20 can open 201 database connections during a deploy, more than the 97 that db-custom-1-3840 allows/,
  );
  await expect(runGcpStack({ config: { ...BASE, maxReplicas: '20', database: '{"size":"db-custom-4-15360"}' } })).resolves.toBeDefined();
});

test('a maxReplicas the Direct VPC egress subnet cannot hold is refused, naming the range that would', async () => {
  const big = { ...BASE, database: '{"size":"db-custom-96-624640"}' };
  expect(await failure({ ...big, networkCidr: '10.8.0.0/26', maxReplicas: '40' })).toMatch(
    /^scim-bridge:maxReplicas 40 instances need about 80 addresses .* 10\.8\.0\.0\/26 holds 29 instances/,
  );
  expect(await failure({ ...big, maxReplicas: '1000' })).toMatch(/^scim-bridge:maxReplicas 1000 instances .* 10\.8\.0\.0\/24 holds 125 instances/);
  await expect(runGcpStack({ config: { ...big, networkCidr: '10.8.0.0/26', maxReplicas: '29' } })).resolves.toBeDefined();
});

test('the program makes no project-level IAM binding, and docs/pipelines.md does not ask for projectIamAdmin (it lets a pipeline make itself Owner)', async () => {
  const run = await runGcpStack({ config: BASE });
  expect(run.resources.filter((r) => /^gcp:projects\/iAM/.test(r.type))).toEqual([]);
  const doc = readFileSync(join(__dirname, '../../docs/pipelines.md'), 'utf8');
  for (const line of doc.split(/(?<=\.)\s/).filter((l) => l.includes('projectIamAdmin'))) expect(line).toMatch(/^Do not grant/);
});

test('docs/gcp.md removes this stack’s network after a destroy, never every scim-bridge-* network of the project', () => {
  const doc = readFileSync(join(__dirname, '../../docs/gcp.md'), 'utf8');
  expect(doc).not.toMatch(/networks list --filter/);
  expect(doc).toMatch(/NET=\$\(pulumi stack output networkName -s gcp\)[^\n]*\npulumi destroy -s gcp/);
});
