/**
 * The GCP stack under Pulumi mocks: what `pulumi up -s gcp` would ask Google Cloud for, checked against Google's rules
 * (each cited where it is encoded, in constructs/gcp/platform.ts and the component files).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BRIDGE_ENV, BRIDGE_IMAGE, BRIDGE_PATHS, BRIDGE_PORT, BRIDGE_SIZING } from '../../contract';
import { BOOTSTRAP_COMMAND } from '../../constructs/common';
import { type Recorded, type Run, SESSION, runPulumiProgram } from '../support/pulumi-harness';
import {
  ACCESS_TOKEN,
  BASE,
  BASE_NAME,
  BOOT_SA_EMAIL,
  DB_DNS_NAME,
  DB_HOST,
  DOMAIN,
  GOOGLE_KEY,
  IMAGE_DIGEST,
  LB_IP,
  PROJECT,
  PSC_IP,
  REGION,
  SA_EMAIL,
  CA_BUNDLE,
  T,
  container,
  envOf,
  gcpMocks,
  occurrences,
  runGcpProgram,
  runGcpStack,
} from './mocks';

const APP_URL = `postgres://scim_bridge@${DB_HOST}:5432/scim_bridge?sslmode=verify-full`;
const secretIdOf = (run: Run, name: string) => run.one(T.secret, name).inputs.secretId;
/** Every principal granted read on a secret, by the secret's id. */
function readers(run: Run): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const g of run.ofType(T.secretIam)) (out[g.inputs.secretId] ??= []).push(g.inputs.member);
  return out;
}
/** Every input value anywhere in a resource, for checks that must hold wherever a field sits. */
function values(r: Recorded): unknown[] {
  const walk = (v: unknown): unknown[] => (Array.isArray(v) ? v.flatMap(walk) : v && typeof v === 'object' ? Object.values(v).flatMap(walk) : [v]);
  return walk(r.inputs);
}

describe('default stack: load balancer, Cloud DNS zone, scimsession from a Pulumi secret', () => {
  let run: Run;
  let service: Recorded;
  let job: Recorded;
  beforeAll(async () => {
    run = await runGcpStack({ config: { ...BASE, dnsZone: 'example-zone' } });
    service = run.one(T.service);
    job = run.one(T.job);
  });

  test('the shared outputs: scimBaseUrl, dnsRecords, nextSteps', () => {
    expect(run.outputs.scimBaseUrl).toBe(`https://${DOMAIN}/scim/v2`);
    expect(run.outputs.dnsRecords).toEqual([{ name: DOMAIN, type: 'A', value: LB_IP, purpose: 'traffic to the load balancer' }]);
    expect(run.outputs.nextSteps).toContain(`SCIM base URL for your identity provider: https://${DOMAIN}/scim/v2`);
    // The record was created in the zone: nothing to add by hand.
    expect(run.outputs.nextSteps).not.toContain('Create these DNS records');
    expect(run.outputs.nextSteps).toContain('scim-bridge doctor');
    expect(run.outputs.databaseHost).toBe(DB_HOST);
  });

  test('Cloud Run: scaling and request concurrency from the shared args, a whole vCPU (Cloud Run needs one for concurrency above 1)', () => {
    const template = service.inputs.template;
    expect(template.scaling).toEqual({ minInstanceCount: BRIDGE_SIZING.minReplicas, maxInstanceCount: BRIDGE_SIZING.maxReplicas });
    expect(template.maxInstanceRequestConcurrency).toBe(BRIDGE_SIZING.targetConcurrentRequests);
    expect(container(service).resources.limits).toEqual({ cpu: '1', memory: `${BRIDGE_SIZING.memoryMiB}Mi` });
  });

  test('Cloud Run: startup on /health, liveness on the shallow /ping, timeouts below periods (a Cloud Run rule), PORT left to Cloud Run', () => {
    const c = container(service);
    expect(c.ports).toEqual({ containerPort: BRIDGE_PORT });
    expect(c.startupProbe.httpGet).toEqual({ path: BRIDGE_PATHS.readiness, port: BRIDGE_PORT });
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBeGreaterThanOrEqual(60);
    expect(c.livenessProbe.httpGet).toEqual({ path: BRIDGE_PATHS.liveness, port: BRIDGE_PORT });
    for (const probe of [c.startupProbe, c.livenessProbe]) expect(probe.timeoutSeconds).toBeLessThan(probe.periodSeconds);
    expect(envOf(service)).not.toHaveProperty(BRIDGE_ENV.port);
  });

  test('public without allUsers: invokerIamDisabled, no invoker binding anywhere (Domain Restricted Sharing refuses allUsers), ingress only from the load balancer', () => {
    expect(service.inputs.invokerIamDisabled).toBe(true);
    expect(run.ofType(T.serviceIam)).toHaveLength(0);
    for (const r of run.resources) expect(values(r)).not.toEqual(expect.arrayContaining([expect.stringMatching(/^(allUsers|allAuthenticatedUsers)$/)]));
    expect(service.inputs.ingress).toBe('INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER');
    expect(service.inputs.template.serviceAccount).toBe(SA_EMAIL);
  });

  test('safe bridge settings: metrics need the token, X-Forwarded-For trusted for the two entries the load balancer appends', () => {
    const env = envOf(service);
    expect(env[BRIDGE_ENV.metricsRequireToken]).toBe('true');
    // "<client IP>,<forwarding rule IP>": the client is the second address from the right.
    expect(env[BRIDGE_ENV.trustProxy]).toBe('2');
    expect(env[BRIDGE_ENV.logLevel]).toBe('info');
    expect(env[BRIDGE_ENV.databasePoolSize]).toBe(String(BRIDGE_SIZING.databasePoolSize));
  });

  test('the service connects as its own role over verified TLS: the instance DNS name, verify-full, the instance CAs; the password from Secret Manager', () => {
    const env = envOf(service);
    expect(env[BRIDGE_ENV.databaseUrl]).toBe(APP_URL);
    expect(env[BRIDGE_ENV.databaseCaCert]).toBe(CA_BUNDLE);
    expect(env[BRIDGE_ENV.pgPassword]).toEqual({ secret: secretIdOf(run, 'scim-bridge-db-app-password'), version: '1' });
    // The administrator's URL never reaches the service.
    expect(env).not.toHaveProperty(BRIDGE_ENV.databaseAdminUrl);
    const adminPassword = run.one(T.randomPassword, 'scim-bridge-db-admin').state.result;
    const appPassword = run.one(T.randomPassword, 'scim-bridge-db-app').state.result;
    expect(occurrences(service.raw, adminPassword)).toEqual([]);
    expect(occurrences(service.raw, appPassword)).toEqual([]);
  });

  test('each secret is read only by whoever needs it, one grant per secret, no project-level grant at all', () => {
    const sessionSecret = secretIdOf(run, 'scim-bridge-service-scimsession');
    expect(readers(run)).toEqual({
      [sessionSecret]: [`serviceAccount:${SA_EMAIL}`],
      [secretIdOf(run, 'scim-bridge-db-app-password')]: expect.arrayContaining([`serviceAccount:${SA_EMAIL}`, `serviceAccount:${BOOT_SA_EMAIL}`]),
      [secretIdOf(run, 'scim-bridge-db-admin-url')]: [`serviceAccount:${BOOT_SA_EMAIL}`],
    });
    expect(run.ofType(T.secretIam).every((g) => g.inputs.role === 'roles/secretmanager.secretAccessor')).toBe(true);
    expect(run.ofType(T.projectIam)).toHaveLength(0);
  });

  test('scimsession: a secret version whose data stays a Pulumi secret, mounted as a file that follows the latest version', () => {
    const version = run.one(T.secretVersion, 'scim-bridge-service-scimsession');
    expect(occurrences(version.raw, BASE.scimSession)).toEqual([true]);
    const volume = service.inputs.template.volumes.find((v: { secret?: unknown }) => v.secret);
    expect(volume.secret).toEqual({
      secret: secretIdOf(run, 'scim-bridge-service-scimsession'),
      items: [{ path: BRIDGE_IMAGE.sessionFileName, version: 'latest' }],
    });
    expect(envOf(service)[BRIDGE_ENV.sessionFile]).toBe(`${BRIDGE_IMAGE.sessionMountDir}/${BRIDGE_IMAGE.sessionFileName}`);
    for (const r of run.resources) if (r !== version) expect(occurrences(r.raw, BASE.scimSession)).toEqual([]);
  });

  test('Cloud SQL: no public address (ipv4Enabled false), Private Service Connect for this project only, encrypted connections only, a CA whose certificates name the host', () => {
    const ip = run.one(T.sqlInstance).inputs.settings.ipConfiguration;
    expect(ip).toEqual({
      ipv4Enabled: false,
      pscConfigs: [{ pscEnabled: true, allowedConsumerProjects: [PROJECT] }],
      sslMode: 'ENCRYPTED_ONLY',
      serverCaMode: 'GOOGLE_MANAGED_CAS_CA',
    });
    const settings = run.one(T.sqlInstance).inputs.settings;
    expect(settings).toMatchObject({ edition: 'ENTERPRISE', tier: 'db-custom-1-3840', availabilityType: 'ZONAL', diskSize: 10 });
    expect(run.one(T.sqlInstance).inputs.databaseVersion).toBe('POSTGRES_17');
    expect(settings.backupConfiguration).toMatchObject({
      enabled: true,
      pointInTimeRecoveryEnabled: true,
      transactionLogRetentionDays: 7,
      backupRetentionSettings: { retainedBackups: 7 },
    });
  });

  test('the Private Service Connect endpoint sits in the bridge subnet; a private zone makes the instance DNS name resolve to it inside the VPC only', () => {
    const subnet = run.one(T.subnetwork);
    const network = run.one(T.network);
    const address = run.one(T.internalAddress);
    expect(address.inputs).toMatchObject({ addressType: 'INTERNAL', subnetwork: subnet.id, region: REGION });
    expect(run.one(T.forwardingRule).inputs).toMatchObject({
      loadBalancingScheme: '',
      network: network.id,
      ipAddress: address.id,
      target: run.one(T.sqlInstance).state.pscServiceAttachmentLink,
    });
    const zone = run.one(T.managedZone);
    expect(zone.inputs).toMatchObject({ dnsName: DB_DNS_NAME, visibility: 'private', privateVisibilityConfig: { networks: [{ networkUrl: network.id }] } });
    expect(run.one(T.recordSet, 'scim-bridge-db-dns').inputs).toMatchObject({ name: DB_DNS_NAME, type: 'A', rrdatas: [PSC_IP] });
  });

  test('the network: custom mode, one private subnet; the service and the job reach it by Direct VPC egress for private ranges only', () => {
    expect(run.one(T.network).inputs).toMatchObject({ name: BASE_NAME, autoCreateSubnetworks: false });
    expect(run.one(T.subnetwork).inputs).toMatchObject({ ipCidrRange: '10.8.0.0/24', region: REGION, network: run.one(T.network).id });
    const vpc = { networkInterfaces: [{ network: run.one(T.network).id, subnetwork: run.one(T.subnetwork).id }], egress: 'PRIVATE_RANGES_ONLY' };
    expect(service.inputs.template.vpcAccess).toEqual(vpc);
    expect(job.inputs.template.template.vpcAccess).toEqual(vpc);
  });

  test('the app role is not made through the Cloud SQL API (API-made users are cloudsqlsuperuser members): the only API user is the bootstrap administrator', () => {
    expect(run.ofType(T.sqlUser).map((u) => u.inputs.name)).toEqual(['scim_bridge_admin']);
    expect(run.one(T.sqlDatabase).inputs.name).toBe('scim_bridge');
  });

  test('the bootstrap job runs `scim-bridge db bootstrap` with the administrator URL (from its secret) and the app URL and password, as its own account', () => {
    const c = container(job);
    expect(c.args).toEqual([...BOOTSTRAP_COMMAND]);
    expect(c.image).toBe(container(service).image);
    const env = envOf(job);
    expect(env).toEqual({
      [BRIDGE_ENV.databaseAdminUrl]: { secret: secretIdOf(run, 'scim-bridge-db-admin-url'), version: '1' },
      [BRIDGE_ENV.databaseUrl]: APP_URL,
      [BRIDGE_ENV.pgPassword]: { secret: secretIdOf(run, 'scim-bridge-db-app-password'), version: '1' },
      [BRIDGE_ENV.databaseCaCert]: CA_BUNDLE,
      [BRIDGE_ENV.logLevel]: 'info',
    });
    expect(job.inputs.template.template.serviceAccount).toBe(BOOT_SA_EMAIL);
    expect(job.inputs.runExecutionToken).toMatch(/^[0-9a-f]{12}$/);
    // The provider's rule: job name plus token fewer than 63 characters.
    expect(job.inputs.name.length + job.inputs.runExecutionToken.length).toBeLessThan(63);
  });

  test('the administrator URL: verify-full to the instance DNS name, its password only inside the Pulumi secret', () => {
    const version = run.one(T.secretVersion, 'scim-bridge-db-admin-url');
    const adminPassword = run.one(T.randomPassword, 'scim-bridge-db-admin').state.result;
    expect(version.inputs.secretData).toBe(`postgres://scim_bridge_admin:${adminPassword}@${DB_HOST}:5432/scim_bridge?sslmode=verify-full`);
    expect(occurrences(version.raw, adminPassword)).toEqual([true]);
    const user = run.one(T.sqlUser);
    expect(occurrences(user.raw, adminPassword).every(Boolean)).toBe(true);
  });

  test('load balancer: serverless NEG → backend → URL map → HTTPS proxy with the managed certificate and a TLS 1.2+ policy; port 80 redirects', () => {
    const neg = run.one(T.neg);
    expect(neg.inputs).toMatchObject({ networkEndpointType: 'SERVERLESS', region: REGION, cloudRun: { service: BASE_NAME } });
    const backend = run.one(T.backend);
    expect(backend.inputs).toMatchObject({ loadBalancingScheme: 'EXTERNAL_MANAGED', protocol: 'HTTPS', backends: [{ group: neg.id }] });
    expect(run.one(T.urlMap, 'scim-bridge-front-https').inputs.defaultService).toBe(backend.id);
    expect(run.one(T.cert).inputs.managed.domains).toEqual([DOMAIN]);
    expect(run.one(T.sslPolicy).inputs).toMatchObject({ profile: 'MODERN', minTlsVersion: 'TLS_1_2' });
    expect(run.one(T.httpsProxy).inputs).toMatchObject({ sslCertificates: [run.one(T.cert).id], sslPolicy: run.one(T.sslPolicy).id });
    expect(run.one(T.globalRule, 'scim-bridge-front-https').inputs).toMatchObject({
      portRange: '443',
      ipAddress: LB_IP,
      loadBalancingScheme: 'EXTERNAL_MANAGED',
    });
    expect(run.one(T.urlMap, 'scim-bridge-front-http-redirect').inputs.defaultUrlRedirect).toEqual({
      httpsRedirect: true,
      redirectResponseCode: 'MOVED_PERMANENTLY_DEFAULT',
      stripQuery: false,
    });
    expect(run.one(T.globalRule, 'scim-bridge-front-http').inputs).toMatchObject({ portRange: '80', target: run.one(T.httpProxy).id });
  });

  test('DNS: the A record in the given zone points at the static address', () => {
    expect(run.one(T.recordSet, 'scim-bridge-front').inputs).toEqual({
      project: PROJECT,
      managedZone: 'example-zone',
      name: `${DOMAIN}.`,
      type: 'A',
      ttl: 300,
      rrdatas: [LB_IP],
    });
  });

  test('image: built from bridge/Dockerfile at the repository root, never on a preview, pushed with the deployer token (a secret), run by digest', () => {
    const image = run.one(T.image);
    const registry = `${REGION}-docker.pkg.dev/${PROJECT}/${BASE_NAME}`;
    expect(image.inputs).toMatchObject({ push: true, buildOnPreview: false, platforms: ['linux/amd64'], tags: [`${registry}/scim-bridge:latest`] });
    expect(image.inputs.dockerfile.location).toMatch(/bridge\/Dockerfile$/);
    expect(image.inputs.dockerfile.location.startsWith(image.inputs.context.location)).toBe(true);
    expect(image.inputs.registries).toEqual([{ address: `${REGION}-docker.pkg.dev`, username: 'oauth2accesstoken', password: ACCESS_TOKEN }]);
    expect(occurrences(image.raw, ACCESS_TOKEN)).toEqual([true]);
    expect(container(service).image).toBe(`${registry}/scim-bridge:latest@${IMAGE_DIGEST}`);
  });

  test('Artifact Registry really cleans up: a DELETE policy for old versions beside the KEEP of the ten newest, not a dry run', () => {
    const repo = run.one(T.repository).inputs;
    expect(repo).toMatchObject({ format: 'DOCKER', location: REGION, cleanupPolicyDryRun: false });
    const actions = repo.cleanupPolicies.map((p: { action: string }) => p.action).sort();
    expect(actions).toEqual(['DELETE', 'KEEP']);
    expect(repo.cleanupPolicies.find((p: { action: string }) => p.action === 'DELETE').condition).toEqual({ tagState: 'ANY', olderThan: '2592000s' });
    expect(repo.cleanupPolicies.find((p: { action: string }) => p.action === 'KEEP').mostRecentVersions).toEqual({ keepCount: 10 });
  });

  test('every API the component calls is enabled first (cloudresourcemanager included) and left on at destroy', () => {
    const apis = run
      .ofType(T.api)
      .map((a) => a.inputs.service)
      .sort();
    expect(apis).toEqual(
      ['artifactregistry', 'cloudresourcemanager', 'compute', 'dns', 'iam', 'run', 'secretmanager', 'sqladmin'].map((a) => `${a}.googleapis.com`),
    );
    expect(run.ofType(T.api).every((a) => a.inputs.disableOnDestroy === false)).toBe(true);
    // Pulumi does not pass a component's dependsOn to its children: every Google resource must wait for the APIs itself.
    const apiUrns = run.ofType(T.api).map((a) => a.urn);
    const google = run.resources.filter((r) => r.custom && r.type.startsWith('gcp:') && r.type !== T.api);
    expect(google.length).toBeGreaterThan(30);
    for (const r of google) expect([r.name, apiUrns.every((urn) => r.dependsOn.includes(urn))]).toEqual([r.name, true]);
  });
});

describe('load balancer without a Cloud DNS zone', () => {
  test('creates no record and says which to add', async () => {
    const run = await runGcpStack({ config: BASE });
    expect(run.ofType(T.recordSet).map((r) => r.name)).toEqual(['scim-bridge-db-dns']);
    expect(run.outputs.dnsRecords).toEqual([{ name: DOMAIN, type: 'A', value: LB_IP, purpose: 'traffic to the load balancer' }]);
    expect(run.outputs.nextSteps).toContain(`Create these DNS records at your DNS provider: ${DOMAIN} A ${LB_IP}`);
    expect(run.outputs.ipAddress).toBe(LB_IP);
  });

  test('httpRedirect false leaves port 80 closed', async () => {
    const run = await runGcpStack({ config: { ...BASE, httpRedirect: 'false' } });
    expect(run.ofType(T.httpProxy)).toHaveLength(0);
    expect(run.ofType(T.globalRule).map((r) => r.inputs.portRange)).toEqual(['443']);
  });
});

describe('domain mapping front door', () => {
  test('maps the domain, opens ingress to all, trusts the one X-Forwarded-For entry Cloud Run appends, no load balancer, CNAME (fully qualified) in the zone', async () => {
    const run = await runGcpStack({ config: { ...BASE, frontDoor: 'domainMapping', dnsZone: 'example-zone', dnsZoneProject: 'dns-project' } });
    const service = run.one(T.service);
    expect(service.inputs.ingress).toBe('INGRESS_TRAFFIC_ALL');
    expect(service.inputs.invokerIamDisabled).toBe(true);
    expect(envOf(service)[BRIDGE_ENV.trustProxy]).toBe('1');
    expect(run.one(T.domainMapping).inputs).toMatchObject({ name: DOMAIN, location: REGION, metadata: { namespace: PROJECT }, spec: { routeName: BASE_NAME } });
    for (const type of [T.neg, T.backend, T.urlMap, T.cert, T.sslPolicy, T.httpsProxy, T.httpProxy, T.address, T.globalRule])
      expect(run.ofType(type)).toHaveLength(0);
    expect(run.one(T.recordSet, 'scim-bridge-front').inputs).toEqual({
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

  test('without a zone, the records Cloud Run asks for, and the domain verification step', async () => {
    const run = await runGcpStack({ config: { ...BASE, frontDoor: 'domainMapping' } });
    expect(run.outputs.dnsRecords).toEqual([
      { name: DOMAIN, type: 'CNAME', value: 'ghs.googlehosted.com', purpose: 'traffic to the Cloud Run domain mapping' },
    ]);
    expect(run.outputs.nextSteps).toContain(`${DOMAIN} CNAME ghs.googlehosted.com`);
    expect(run.outputs.nextSteps).toContain('gcloud domains verify');
  });
});

describe('an existing Secret Manager secret for the scimsession', () => {
  test('creates no session secret, grants the service account on the given secret and mounts its latest version', async () => {
    const existing = `projects/${PROJECT}/secrets/okta-scimsession`;
    const run = await runGcpStack({ config: { domain: DOMAIN, scimSessionSecretId: existing }, secretKeys: [] });
    expect(
      run
        .ofType(T.secret)
        .map((s) => s.name)
        .sort(),
    ).toEqual(['scim-bridge-db-admin-url', 'scim-bridge-db-app-password']);
    const grant = run.one(T.secretIam, 'scim-bridge-service-scimsession');
    expect(grant.inputs).toMatchObject({ secretId: existing, member: `serviceAccount:${SA_EMAIL}` });
    expect(run.waitsFor(run.one(T.service), grant)).toBe(true);
    expect(run.one(T.service).inputs.template.volumes[0].secret.secret).toBe(existing);
    expect(run.outputs.nextSteps).toContain(`gcloud secrets versions add ${existing}`);
  });
});

describe('Google Workspace', () => {
  test('the plain settings, and the service-account key as a secret pinned to its version (a new key rolls a new revision), readable by the service only', async () => {
    const run = await runGcpStack({
      config: { ...BASE, googleWorkspace: JSON.stringify({ adminEmail: 'admin@example.com', groups: ['eng@example.com'] }), googleCredentials: GOOGLE_KEY },
      secretKeys: ['scimSession', 'googleCredentials'],
    });
    const service = run.one(T.service);
    const env = envOf(service);
    expect(env[BRIDGE_ENV.googleAdminEmail]).toBe('admin@example.com');
    expect(env[BRIDGE_ENV.googleGroups]).toBe('eng@example.com');
    const secretId = secretIdOf(run, 'scim-bridge-service-google-credentials');
    expect(env[BRIDGE_ENV.googleCredentials]).toEqual({ secret: secretId, version: '1' });
    expect(readers(run)[secretId]).toEqual([`serviceAccount:${SA_EMAIL}`]);
    expect(run.waitsFor(service, run.one(T.secretIam, 'scim-bridge-service-google-credentials'))).toBe(true);
    expect(occurrences(run.one(T.secretVersion, 'scim-bridge-service-google-credentials').raw, GOOGLE_KEY)).toEqual([true]);
    expect(occurrences(service.raw, 'PRIVATE KEY')).toEqual([]);
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
        targetConcurrentRequests: '80',
        cpu: '2',
        memoryMiB: '2048',
        image: 'europe-docker.pkg.dev/acme-ci/images/scim-bridge:1.4.0',
        database: JSON.stringify({ size: 'db-custom-4-15360', version: '16', highAvailability: true, backupRetentionDays: 30, storageGiB: 20 }),
        sslPolicyProfile: 'RESTRICTED',
        allowedDomains: 'Example.com, example.org',
        logLevel: 'warn',
        networkCidr: '10.20.0.0/22',
        tags: JSON.stringify({ team: 'identity' }),
        enableApis: 'false',
      },
    });
  });

  test('scaling, size, concurrency and the given image (nothing built, no token asked for)', () => {
    const service = run.one(T.service);
    expect(service.inputs.template.scaling).toEqual({ minInstanceCount: 0, maxInstanceCount: 20 });
    expect(service.inputs.template.maxInstanceRequestConcurrency).toBe(80);
    expect(container(service).resources.limits).toEqual({ cpu: '2', memory: '2048Mi' });
    expect(container(service).image).toBe('europe-docker.pkg.dev/acme-ci/images/scim-bridge:1.4.0');
    expect(container(run.one(T.job)).image).toBe('europe-docker.pkg.dev/acme-ci/images/scim-bridge:1.4.0');
    expect(run.ofType(T.image)).toHaveLength(0);
    expect(run.invokes.some((i) => i.token === 'gcp:organizations/getClientConfig:getClientConfig')).toBe(false);
  });

  test('database size, version, availability, backups (point-in-time logs capped at the 7 days Enterprise keeps)', () => {
    const instance = run.one(T.sqlInstance).inputs;
    expect(instance.databaseVersion).toBe('POSTGRES_16');
    expect(instance.settings).toMatchObject({ tier: 'db-custom-4-15360', availabilityType: 'REGIONAL', diskSize: 20 });
    expect(instance.settings.backupConfiguration).toMatchObject({
      transactionLogRetentionDays: 7,
      backupRetentionSettings: { retainedBackups: 30, retentionUnit: 'COUNT' },
    });
  });

  test('TLS profile, allowed domains, log level, subnet range, labels; APIs left alone', () => {
    const env = envOf(run.one(T.service));
    expect(run.one(T.sslPolicy).inputs.profile).toBe('RESTRICTED');
    expect(env[BRIDGE_ENV.allowedDomains]).toBe('example.com,example.org');
    expect(env[BRIDGE_ENV.logLevel]).toBe('warn');
    expect(run.one(T.subnetwork).inputs.ipCidrRange).toBe('10.20.0.0/22');
    expect(run.one(T.service).inputs.labels).toEqual({ app: 'scim-bridge', team: 'identity' });
    expect(run.one(T.sqlInstance).inputs.settings.userLabels).toEqual({ app: 'scim-bridge', team: 'identity' });
    expect(run.ofType(T.api)).toHaveLength(0);
  });
});

describe('the Pulumi program entry point', () => {
  test('stacks/pulumi/index.ts runs this program for scim-bridge:cloud gcp', async () => {
    const run = await runGcpProgram({ config: BASE });
    expect(run.outputs.scimBaseUrl).toBe(`https://${DOMAIN}/scim/v2`);
    expect(run.ofType(T.service)).toHaveLength(1);
  });
});

describe('Pulumi.gcp.yaml', () => {
  test('the example stack file deploys as written once the scimsession is set, and the program reads every key it sets', async () => {
    const { parse } = require('yaml');
    const file = parse(readFileSync(join(__dirname, '../../Pulumi.gcp.yaml'), 'utf8'), { strict: true }).config as Record<string, unknown>;
    // The engine hands structured values to the program as JSON, plain ones as strings.
    const asConfig = (v: unknown) => (typeof v === 'object' ? JSON.stringify(v) : String(v));
    const config = Object.fromEntries(
      Object.entries(file)
        .filter(([k]) => k.startsWith('scim-bridge:'))
        .map(([k, v]) => [k.slice('scim-bridge:'.length), asConfig(v)]),
    );
    const provider = Object.fromEntries(
      Object.entries(file)
        .filter(([k]) => k.startsWith('gcp:'))
        .map(([k, v]) => [k, asConfig(v)]),
    );
    const read = new Set<string>();
    const run = await runPulumiProgram(gcpMocks, { config: { ...config, scimSession: SESSION }, provider }, () => {
      const pulumi = require('@pulumi/pulumi');
      const get = pulumi.Config.prototype.get;
      pulumi.Config.prototype.get = function (this: { name: string }, key: string, ...rest: unknown[]) {
        if (this.name === 'scim-bridge') read.add(key);
        return get.call(this, key, ...rest);
      };
      return require('../../stacks/pulumi/index');
    });
    expect(Object.keys(config).filter((k) => !read.has(k))).toEqual([]);
    expect(run.outputs.scimBaseUrl).toBe(`https://${config.domain}/scim/v2`);
    expect(run.one(T.service).inputs.template.scaling).toEqual({ minInstanceCount: 2, maxInstanceCount: 6 });
    expect(run.one(T.sqlInstance).inputs.settings.tier).toBe('db-custom-1-3840');
    expect(run.one(T.sqlInstance).options.protect).toBe(true);
  });
});
