/**
 * The GCP stack under Pulumi mocks: every promise of the issue checked on the inputs the engine would receive.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BRIDGE_DEFAULTS, BRIDGE_ENV, BRIDGE_IMAGE, BRIDGE_PATHS, BRIDGE_PORT, BRIDGE_SIZING } from '../../contract';
import { ACCESS_TOKEN, BASE, DB_PASSWORD, DOMAIN, IMAGE_DIGEST, LB_IP, PROJECT, REGION, Run, SESSION, SUFFIX, T, isSecretInput, runGcpStack, runProgram } from './harness';

const CONNECTION = `${PROJECT}:${REGION}:scim-bridge-${SUFFIX}`;
const SA_EMAIL = `scim-bridge-${SUFFIX}@${PROJECT}.iam.gserviceaccount.com`;
const SA_MEMBER = `serviceAccount:${SA_EMAIL}`;
const SESSION_SECRET = `scim-bridge-${SUFFIX}-scimsession`;
const PASSWORD_SECRET = `scim-bridge-${SUFFIX}-db-password`;

const container = (run: Run) => run.one(T.service).inputs.template.containers[0];
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const volumes = (run: Run): any[] => run.one(T.service).inputs.template.volumes;
const env = (run: Run, name: string) => container(run).envs.find((e: { name: string }) => e.name === name);

/** Every place a string occurs in a resource's raw inputs, and whether it arrived there as a secret. */
function occurrences(value: unknown, needle: string, secret = false): boolean[] {
  if (isSecretInput(value)) return occurrences((value as { value: unknown }).value, needle, true);
  if (typeof value === 'string') return value.includes(needle) ? [secret] : [];
  if (Array.isArray(value)) return value.flatMap((v) => occurrences(v, needle, secret));
  if (value && typeof value === 'object') return Object.values(value).flatMap((v) => occurrences(v, needle, secret));
  return [];
}

describe('default stack: load balancer front door, Cloud DNS zone, scimsession from a Pulumi secret', () => {
  let run: Run;
  beforeAll(async () => {
    run = await runGcpStack({ config: { ...BASE, dnsZone: 'example-zone' } });
  });

  test('outputs the SCIM base URL without a trailing slash, and what to do next', () => {
    expect(run.outputs.bridgeUrl).toBe(`https://${DOMAIN}/scim/v2`);
    expect(run.outputs.nextSteps).toContain(`SCIM base URL for your identity provider: https://${DOMAIN}/scim/v2`);
    expect(run.outputs.nextSteps).toContain('pulumi config set --secret scimSession');
    expect(run.outputs.nextSteps).toContain(`${DOMAIN} A ${LB_IP}`);
    expect(run.outputs.dnsRecordsCreated).toEqual([{ name: DOMAIN, type: 'A', value: LB_IP }]);
    expect(run.outputs.dnsRecordsToAdd).toBeUndefined();
  });

  test('Cloud Run: scaling bounds and request concurrency from the contract', () => {
    const template = run.one(T.service).inputs.template;
    expect(template.scaling).toEqual({ minInstanceCount: BRIDGE_SIZING.minReplicas, maxInstanceCount: BRIDGE_SIZING.maxReplicas });
    expect(template.maxInstanceRequestConcurrency).toBe(BRIDGE_SIZING.targetConcurrentRequests);
    // Concurrency above 1 needs a whole vCPU on Cloud Run.
    expect(container(run).resources.limits).toEqual({ cpu: '1', memory: `${BRIDGE_SIZING.memoryMiB}Mi` });
  });

  test('Cloud Run: startup probe on /health, liveness probe on /ping, both on the bridge port', () => {
    const c = container(run);
    expect(c.ports).toEqual({ containerPort: BRIDGE_PORT });
    expect(c.startupProbe.httpGet).toEqual({ path: BRIDGE_PATHS.readiness, port: BRIDGE_PORT });
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBeGreaterThanOrEqual(60);
    expect(c.livenessProbe.httpGet).toEqual({ path: BRIDGE_PATHS.liveness, port: BRIDGE_PORT });
    for (const probe of [c.startupProbe, c.livenessProbe]) expect(probe.timeoutSeconds).toBeLessThan(probe.periodSeconds);
    // PORT is reserved on Cloud Run (set from the container port).
    expect(env(run, BRIDGE_ENV.port)).toBeUndefined();
  });

  test('Cloud Run: runs as its own service account and accepts traffic only from the load balancer', () => {
    const service = run.one(T.service);
    expect(service.inputs.template.serviceAccount).toBe(SA_EMAIL);
    expect(service.inputs.ingress).toBe('INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER');
    expect(service.inputs.deletionProtection).toBe(false);
    expect(run.one(T.account).inputs.accountId).toBe(`scim-bridge-${SUFFIX}`);
  });

  test('the invoker role goes to allUsers on the service only (the bridge checks its own bearer token)', () => {
    const invoker = run.one(T.invoker);
    expect(invoker.inputs).toMatchObject({ name: `scim-bridge-${SUFFIX}`, location: REGION, role: 'roles/run.invoker', member: 'allUsers' });
    const projectRoles = run.ofType(T.projectIam).map((m) => m.inputs);
    expect(projectRoles).toEqual([{ project: PROJECT, role: 'roles/cloudsql.client', member: SA_MEMBER }]);
  });

  test('scimsession: a secret version whose data is a Pulumi secret, mounted as a file that follows the latest version', () => {
    const secret = run.one(T.secret, 'scim-bridge-scimsession');
    expect(secret.inputs).toMatchObject({ secretId: SESSION_SECRET, replication: { auto: {} } });
    const version = run.one(T.secretVersion, 'scim-bridge-scimsession');
    expect(version.inputs.secret).toBe(secret.id);
    expect(isSecretInput(version.raw.secretData)).toBe(true);
    expect(version.inputs.secretData).toBe(SESSION);

    const volume = volumes(run).find((v) => v.secret);
    expect(volume.secret).toEqual({ secret: SESSION_SECRET, items: [{ path: BRIDGE_IMAGE.sessionFileName, version: 'latest' }] });
    expect(container(run).volumeMounts).toContainEqual({ name: volume.name, mountPath: BRIDGE_IMAGE.sessionMountDir });
    expect(env(run, BRIDGE_ENV.sessionFile).value).toBe(`${BRIDGE_IMAGE.sessionMountDir}/${BRIDGE_IMAGE.sessionFileName}`);
    expect(env(run, BRIDGE_ENV.session)).toBeUndefined();
  });

  test('the scimsession value reaches one resource input only, as a secret, and never an output', () => {
    const holders = run.resources.filter((r) => occurrences(r.raw, SESSION).length > 0);
    expect(holders.map((r) => `${r.type} ${r.name}`)).toEqual([`${T.secretVersion} scim-bridge-scimsession`]);
    expect(occurrences(holders[0].raw, SESSION)).toEqual([true]);
    expect(JSON.stringify(run.outputs)).not.toContain(SESSION);
  });

  test('both secrets are readable by the bridge service account alone, through IAM on each secret', () => {
    const grants = run.ofType(T.secretIam).map((g) => g.inputs);
    expect(grants).toHaveLength(2);
    expect(grants).toEqual(
      expect.arrayContaining([
        { project: PROJECT, secretId: SESSION_SECRET, role: 'roles/secretmanager.secretAccessor', member: SA_MEMBER },
        { project: PROJECT, secretId: PASSWORD_SECRET, role: 'roles/secretmanager.secretAccessor', member: SA_MEMBER },
      ]),
    );
    expect(run.ofType(T.projectIam).some((m) => m.inputs.role.startsWith('roles/secretmanager'))).toBe(false);
  });

  test('the service waits for both secret grants, both versions and the SQL grant (its first revision checks access)', () => {
    const service = run.one(T.service);
    for (const dep of [
      run.one(T.secretIam, 'scim-bridge-scimsession-access'),
      run.one(T.secretIam, 'scim-bridge-db-password-access'),
      run.one(T.secretVersion, 'scim-bridge-scimsession'),
      run.one(T.secretVersion, 'scim-bridge-db-password'),
      run.one(T.projectIam),
      run.one(T.sqlUser),
    ]) {
      expect(run.waitsFor(service, dep)).toBe(true);
    }
  });

  test('Cloud SQL: no authorised networks, encrypted connections only, connectors required', () => {
    const settings = run.one(T.sqlInstance).inputs.settings;
    expect(settings.ipConfiguration.authorizedNetworks).toEqual([]);
    expect(settings.ipConfiguration.sslMode).toBe('ENCRYPTED_ONLY');
    expect(settings.connectorEnforcement).toBe('REQUIRED');
  });

  test('Cloud SQL: backups with point-in-time recovery, deletion protection on in Pulumi and in the API', () => {
    const instance = run.one(T.sqlInstance).inputs;
    expect(instance.databaseVersion).toBe('POSTGRES_16');
    expect(instance.deletionProtection).toBe(true);
    expect(instance.settings.deletionProtectionEnabled).toBe(true);
    expect(instance.settings.backupConfiguration).toMatchObject({
      enabled: true,
      pointInTimeRecoveryEnabled: true,
      backupRetentionSettings: { retainedBackups: 7 },
    });
    expect(instance.settings.availabilityType).toBe('ZONAL');
    // The database and its user would be dropped before the instance: a destroy must stop there too.
    expect(run.one(T.sqlDatabase).inputs.deletionPolicy).toBe('PREVENT');
    expect(run.one(T.sqlUser).inputs.deletionPolicy).toBe('PREVENT');
  });

  test('Cloud SQL: the bridge connects through the Cloud SQL connection socket with a generated password from Secret Manager', () => {
    expect(run.one(T.sqlDatabase).inputs.name).toBe(BRIDGE_DEFAULTS.databaseName);
    const user = run.one(T.sqlUser);
    expect(user.inputs.name).toBe(BRIDGE_DEFAULTS.databaseUser);
    expect(isSecretInput(user.raw.password)).toBe(true);
    const passwordVersion = run.one(T.secretVersion, 'scim-bridge-db-password');
    expect(isSecretInput(passwordVersion.raw.secretData)).toBe(true);
    expect(passwordVersion.inputs.secretData).toBe(DB_PASSWORD);

    expect(env(run, BRIDGE_ENV.databaseUrl).value).toBe(
      `postgres://${BRIDGE_DEFAULTS.databaseUser}@/${BRIDGE_DEFAULTS.databaseName}?host=/cloudsql/${CONNECTION}`,
    );
    expect(env(run, BRIDGE_ENV.pgPassword)).toEqual({ name: 'PGPASSWORD', valueSource: { secretKeyRef: { secret: PASSWORD_SECRET, version: '1' } } });
    const sqlVolume = volumes(run).find((v) => v.cloudSqlInstance);
    expect(sqlVolume.cloudSqlInstance.instances).toEqual([CONNECTION]);
    expect(container(run).volumeMounts).toContainEqual({ name: sqlVolume.name, mountPath: '/cloudsql' });
    // The password never appears in plain text anywhere.
    for (const r of run.resources) expect(occurrences(r.raw, DB_PASSWORD).every(Boolean)).toBe(true);
  });

  test('TLS: Google-managed certificate for the domain on an HTTPS proxy with a modern TLS 1.2+ policy on 443', () => {
    const cert = run.one(T.cert);
    expect(cert.inputs.managed.domains).toEqual([DOMAIN]);
    const policy = run.one(T.sslPolicy);
    expect(policy.inputs).toMatchObject({ profile: 'MODERN', minTlsVersion: 'TLS_1_2' });
    const proxy = run.one(T.httpsProxy);
    expect(proxy.inputs.sslCertificates).toEqual([cert.id]);
    expect(proxy.inputs.sslPolicy).toBe(policy.id);
    const httpsMap = run.one(T.urlMap, 'scim-bridge-https');
    expect(proxy.inputs.urlMap).toBe(httpsMap.id);

    const rule = run.one(T.forwardingRule, 'scim-bridge-https');
    expect(rule.inputs).toMatchObject({ target: proxy.id, portRange: '443', ipAddress: LB_IP, loadBalancingScheme: 'EXTERNAL_MANAGED' });
  });

  test('the load balancer reaches the service through a serverless NEG', () => {
    const neg = run.one(T.neg);
    expect(neg.inputs).toMatchObject({ networkEndpointType: 'SERVERLESS', region: REGION, cloudRun: { service: `scim-bridge-${SUFFIX}` } });
    const backend = run.one(T.backend);
    expect(backend.inputs.backends).toEqual([{ group: neg.id }]);
    expect(backend.inputs.loadBalancingScheme).toBe('EXTERNAL_MANAGED');
    expect(run.one(T.urlMap, 'scim-bridge-https').inputs.defaultService).toBe(backend.id);
  });

  test('plain HTTP on port 80 is answered with a redirect to HTTPS', () => {
    const redirect = run.one(T.urlMap, 'scim-bridge-http-redirect');
    expect(redirect.inputs.defaultUrlRedirect).toEqual({ httpsRedirect: true, redirectResponseCode: 'MOVED_PERMANENTLY_DEFAULT', stripQuery: false });
    expect(redirect.inputs.defaultService).toBeUndefined();
    const proxy = run.one(T.httpProxy);
    expect(proxy.inputs.urlMap).toBe(redirect.id);
    expect(run.one(T.forwardingRule, 'scim-bridge-http').inputs).toMatchObject({ target: proxy.id, portRange: '80', ipAddress: LB_IP });
  });

  test('DNS: an A record for the domain in the given zone, pointing at the static address', () => {
    const record = run.one(T.recordSet);
    expect(record.inputs).toEqual({ project: PROJECT, managedZone: 'example-zone', name: `${DOMAIN}.`, type: 'A', ttl: 300, rrdatas: [LB_IP] });
    expect(run.one(T.address).inputs).toMatchObject({ ipVersion: 'IPV4', addressType: 'EXTERNAL' });
  });

  test('image: built from bridge/Dockerfile at the repository root and pushed to the Artifact Registry repository', () => {
    const repo = run.one(T.repository);
    expect(repo.inputs).toMatchObject({ format: 'DOCKER', location: REGION, project: PROJECT });
    const image = run.one(T.image);
    const registry = `${REGION}-docker.pkg.dev/${PROJECT}/${repo.inputs.repositoryId}`;
    expect(image.inputs.tags).toEqual([`${registry}/scim-bridge:latest`]);
    expect(image.inputs.push).toBe(true);
    expect(image.inputs.dockerfile.location).toMatch(/bridge\/Dockerfile$/);
    expect(image.inputs.dockerfile.location.startsWith(image.inputs.context.location)).toBe(true);
    // The deployer's short-lived access token, kept secret.
    expect(image.inputs.registries).toEqual([{ address: `${REGION}-docker.pkg.dev`, username: 'oauth2accesstoken', password: expect.any(String) }]);
    expect(image.inputs.registries[0].password).toBe(ACCESS_TOKEN);
    expect(occurrences(image.raw, ACCESS_TOKEN)).toEqual([true]);
    expect(container(run).image).toBe(`${registry}/scim-bridge:latest@${IMAGE_DIGEST}`);
  });

  test('the APIs the stack needs are enabled and left on at destroy', () => {
    const apis = run.ofType(T.api).map((a) => a.inputs.service).sort();
    expect(apis).toEqual(
      ['artifactregistry', 'compute', 'dns', 'iam', 'run', 'secretmanager', 'sqladmin'].map((a) => `${a}.googleapis.com`),
    );
    expect(run.ofType(T.api).every((a) => a.inputs.disableOnDestroy === false)).toBe(true);
    expect(run.waitsFor(run.one(T.service), run.one(T.api, 'scim-bridge-api-run'))).toBe(true);
  });
});

describe('load balancer without a Cloud DNS zone', () => {
  test('creates no record and prints the A record to add', async () => {
    const run = await runGcpStack({ config: BASE });
    expect(run.ofType(T.recordSet)).toHaveLength(0);
    expect(run.outputs.dnsRecordsToAdd).toEqual([{ name: DOMAIN, type: 'A', value: LB_IP }]);
    expect(run.outputs.nextSteps).toContain(`Add at your DNS provider: ${DOMAIN} A ${LB_IP}`);
    expect(run.ofType(T.api).map((a) => a.inputs.service)).not.toContain('dns.googleapis.com');
  });

  test('httpRedirect false leaves port 80 closed', async () => {
    const run = await runGcpStack({ config: { ...BASE, httpRedirect: 'false' } });
    expect(run.ofType(T.httpProxy)).toHaveLength(0);
    expect(run.ofType(T.forwardingRule).map((r) => r.inputs.portRange)).toEqual(['443']);
  });
});

describe('domain mapping front door', () => {
  test('maps the domain to the service, opens ingress to all, creates no load balancer, CNAMEs in the zone', async () => {
    const run = await runGcpStack({ config: { ...BASE, frontDoor: 'domainMapping', dnsZone: 'example-zone', dnsZoneProject: 'dns-project' } });
    expect(run.one(T.service).inputs.ingress).toBe('INGRESS_TRAFFIC_ALL');
    const mapping = run.one(T.domainMapping);
    expect(mapping.inputs).toMatchObject({ name: DOMAIN, location: REGION, metadata: { namespace: PROJECT }, spec: { routeName: `scim-bridge-${SUFFIX}` } });
    for (const type of [T.neg, T.backend, T.urlMap, T.cert, T.sslPolicy, T.httpsProxy, T.httpProxy, T.address, T.forwardingRule]) {
      expect(run.ofType(type)).toHaveLength(0);
    }
    expect(run.one(T.recordSet).inputs).toEqual({
      project: 'dns-project',
      managedZone: 'example-zone',
      name: `${DOMAIN}.`,
      type: 'CNAME',
      ttl: 300,
      rrdatas: ['ghs.googlehosted.com.'],
    });
    expect(run.outputs.ipAddress).toBeUndefined();
    expect(run.invokes.find((i) => i.token === 'gcp:dns/getManagedZone:getManagedZone')?.inputs).toEqual({ name: 'example-zone', project: 'dns-project' });
  });

  test('without a zone, prints the records Cloud Run asks for', async () => {
    const run = await runGcpStack({ config: { ...BASE, frontDoor: 'domainMapping' } });
    expect(run.ofType(T.recordSet)).toHaveLength(0);
    expect(run.outputs.dnsRecordsToAdd).toEqual([{ name: DOMAIN, type: 'CNAME', value: 'ghs.googlehosted.com.' }]);
    expect(run.outputs.nextSteps).toContain('gcloud domains verify');
  });
});

describe('existing Secret Manager secret for the scimsession', () => {
  test('creates no session secret, grants the service account on the given secret and mounts it', async () => {
    const existing = `projects/${PROJECT}/secrets/okta-scimsession`;
    const run = await runGcpStack({ config: { domain: DOMAIN, scimSessionSecretId: existing }, secretKeys: [] });
    expect(run.ofType(T.secret).map((s) => s.name)).toEqual(['scim-bridge-db-password']);
    expect(run.ofType(T.secretVersion).map((s) => s.name)).toEqual(['scim-bridge-db-password']);
    const grant = run.one(T.secretIam, 'scim-bridge-scimsession-access');
    expect(grant.inputs).toMatchObject({ secretId: existing, role: 'roles/secretmanager.secretAccessor', member: SA_MEMBER });
    expect(run.waitsFor(run.one(T.service), grant)).toBe(true);
    const volume = volumes(run).find((v) => v.secret);
    expect(volume.secret.secret).toBe(existing);
    expect(volume.secret.items[0].version).toBe('latest');
    expect(run.outputs.nextSteps).toContain(`gcloud secrets versions add ${existing}`);
  });
});

describe('configuration reaches the resources', () => {
  let run: Run;
  beforeAll(async () => {
    run = await runGcpStack({
      config: {
        ...BASE,
        minReplicas: '0',
        maxReplicas: '20',
        concurrency: '80',
        image: 'europe-docker.pkg.dev/acme-ci/images/scim-bridge:1.4.0',
        databaseTier: 'db-custom-2-7680',
        databaseVersion: '17',
        databaseHighAvailability: 'true',
        databaseRetainedBackups: '30',
        databaseDeletionProtection: 'false',
        serviceDeletionProtection: 'true',
        sslPolicyProfile: 'RESTRICTED',
        allowedDomains: 'Example.com, example.org',
        enableApis: 'false',
      },
    });
  });

  test('scaling, concurrency and the given image', () => {
    const template = run.one(T.service).inputs.template;
    expect(template.scaling).toEqual({ minInstanceCount: 0, maxInstanceCount: 20 });
    expect(template.maxInstanceRequestConcurrency).toBe(80);
    expect(container(run).image).toBe('europe-docker.pkg.dev/acme-ci/images/scim-bridge:1.4.0');
    expect(run.ofType(T.image)).toHaveLength(0);
    expect(run.invokes.some((i) => i.token === 'gcp:organizations/getClientConfig:getClientConfig')).toBe(false);
  });

  test('database size, version, availability, backups and protection', () => {
    const instance = run.one(T.sqlInstance).inputs;
    expect(instance.settings.tier).toBe('db-custom-2-7680');
    expect(instance.databaseVersion).toBe('POSTGRES_17');
    expect(instance.settings.availabilityType).toBe('REGIONAL');
    expect(instance.settings.backupConfiguration.backupRetentionSettings.retainedBackups).toBe(30);
    expect(instance.deletionProtection).toBe(false);
    expect(instance.settings.deletionProtectionEnabled).toBe(false);
    expect(run.one(T.sqlDatabase).inputs.deletionPolicy).toBe('DELETE');
  });

  test('service protection, TLS profile, allowed domains, APIs left alone', () => {
    expect(run.one(T.service).inputs.deletionProtection).toBe(true);
    expect(run.one(T.sslPolicy).inputs.profile).toBe('RESTRICTED');
    expect(env(run, BRIDGE_ENV.allowedDomains).value).toBe('example.com,example.org');
    expect(run.ofType(T.api)).toHaveLength(0);
  });
});

describe('the Pulumi program entry point', () => {
  test('stacks/pulumi/index.ts picks this program for scim-bridge:cloud gcp', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const run = await runProgram({ config: BASE }, () => require('../../stacks/pulumi/index'));
    expect(run.outputs.bridgeUrl).toBe(`https://${DOMAIN}/scim/v2`);
    expect(run.ofType(T.service)).toHaveLength(1);
  });
});

describe('Pulumi.gcp.yaml', () => {
  test('the example stack file is a valid configuration once the scimsession secret is set', async () => {
    const text = readFileSync(join(__dirname, '../../Pulumi.gcp.yaml'), 'utf8');
    // Flat `  namespace:key: value` lines under `config:` (comments skipped); enough for this file.
    const entries = [...text.matchAll(/^ {2}([a-z-]+):([A-Za-z]+): *"?([^"#\n]*?)"? *$/gm)].map(([, ns, key, value]) => ({ ns, key, value }));
    const provider = Object.fromEntries(entries.filter((e) => e.ns === 'gcp').map((e) => [e.key, e.value]));
    const config = Object.fromEntries(entries.filter((e) => e.ns === 'scim-bridge').map((e) => [e.key, e.value]));
    expect(config.cloud).toBe('gcp');
    expect(provider).toEqual({ project: expect.any(String), region: expect.any(String) });
    const run = await runGcpStack({ config: { ...config, scimSession: SESSION }, provider });
    expect(run.outputs.bridgeUrl).toBe(`https://${config.domain}/scim/v2`);
    expect(run.one(T.service).inputs.template.scaling).toEqual({ minInstanceCount: 2, maxInstanceCount: 6 });
  });
});
