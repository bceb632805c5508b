/**
 * `pulumi up -s azure` with the least configuration, as the cloud receives it: the container app, the bootstrap job
 * and the database, and the line between what the app holds and what only the job holds.
 */
import * as path from 'node:path';
import { AZURE_ROLES, CONTAINER_APPS_PROXY_HOPS } from '../../constructs/azure';
import { BRIDGE_ENV, BRIDGE_IMAGE, BRIDGE_PATHS, BRIDGE_PORT, BRIDGE_PROBES } from '../../contract';
import { isSecretInput } from '../support/pulumi-harness';
import {
  ACR_REFRESH_TOKEN,
  ADMIN_PASSWORD,
  APP_FQDN,
  APP_PASSWORD,
  BASE,
  ENTRA_TOKEN,
  SERVER_FQDN,
  SESSION,
  SUBSCRIPTION,
  SUFFIX,
  T,
  TENANT,
  runAzure,
} from './mocks';
import type { AzureRun } from './mocks';

let run: AzureRun;
beforeAll(async () => {
  run = await runAzure({ ...BASE });
});

const app = () => run.one(T.app).inputs;
const bridge = () => app().template.containers[0];
const env = (container = bridge()) =>
  Object.fromEntries(container.env.map((e: { name: string; value?: string; secretRef?: string }) => [e.name, e.value ?? `secretRef:${e.secretRef}`]));
const probe = (type: string) => bridge().probes.find((p: { type: string }) => p.type === type);
const job = () => run.one(T.job).inputs;
const grantsTo = (principal: string) => run.ofType(T.role).filter((r) => r.inputs.principalId === principal);
const secret = (name: string) => run.one(T.secret, `scim-bridge-${name}`);
const APP_URL = `postgres://scim_bridge@${SERVER_FQDN}:5432/scim_bridge?sslmode=verify-full&sslrootcert=system`;

describe('the container app', () => {
  test('external HTTPS-only ingress on the contract port; scimBaseUrl is the app host until the custom domain serves', () => {
    expect(app().configuration.ingress).toMatchObject({ external: true, allowInsecure: false, targetPort: BRIDGE_PORT, transport: 'auto' });
    expect(run.outputs.scimBaseUrl).toBe(`https://${APP_FQDN}/scim/v2`);
  });

  test('the shared environment: metrics behind the token, one trusted proxy hop (Container Apps appends one X-Forwarded-For entry)', () => {
    expect(CONTAINER_APPS_PROXY_HOPS).toBe(1);
    expect(env()).toMatchObject({
      [BRIDGE_ENV.metricsRequireToken]: 'true',
      [BRIDGE_ENV.trustProxy]: '1',
      [BRIDGE_ENV.logLevel]: 'info',
      [BRIDGE_ENV.port]: String(BRIDGE_PORT),
      [BRIDGE_ENV.sessionFile]: `${BRIDGE_IMAGE.sessionMountDir}/${BRIDGE_IMAGE.sessionFileName}`,
    });
    expect(env()).not.toHaveProperty(BRIDGE_ENV.session);
  });

  test('probes: shallow liveness, /health for readiness and startup, within Container Apps limits (failures ≤ 10, success 1 for liveness and startup)', () => {
    expect(probe('Liveness').httpGet).toEqual({ path: BRIDGE_PATHS.liveness, port: BRIDGE_PORT, scheme: 'HTTP' });
    expect(probe('Readiness').httpGet.path).toBe(BRIDGE_PATHS.readiness);
    expect(probe('Startup').httpGet.path).toBe(BRIDGE_PATHS.readiness);
    for (const p of bridge().probes) {
      expect(p.failureThreshold).toBeGreaterThanOrEqual(1);
      expect(p.failureThreshold).toBeLessThanOrEqual(10);
      expect(p.periodSeconds).toBeLessThanOrEqual(240);
      expect(p.timeoutSeconds).toBeGreaterThanOrEqual(1);
      expect(p.timeoutSeconds).toBeLessThan(p.periodSeconds);
    }
    expect(probe('Liveness').successThreshold).toBe(1);
    expect(probe('Startup').successThreshold).toBe(1);
    expect(new Set(bridge().probes.map((p: { type: string }) => p.type)).size).toBe(3);
    expect(probe('Startup').periodSeconds * probe('Startup').failureThreshold).toBeGreaterThanOrEqual(BRIDGE_PROBES.startupGraceSeconds);
  });

  test('scales between the shared bounds on concurrent requests and CPU; 0.5 vCPU with 1 GiB (a consumption combination)', () => {
    expect(app().template.scale).toEqual({
      minReplicas: 2,
      maxReplicas: 6,
      rules: [
        { name: 'http-concurrency', http: { metadata: { concurrentRequests: '50' } } },
        { name: 'cpu', custom: { type: 'cpu', metadata: { type: 'Utilization', value: '60' } } },
      ],
    });
    expect(bridge().resources).toEqual({ cpu: 0.5, memory: '1Gi' });
  });

  test('the image is built from bridge/Dockerfile and pushed with a token exchanged from the deployer Entra token', () => {
    const root = path.resolve(__dirname, '../..');
    expect(run.one(T.image).inputs).toMatchObject({ context: { location: root }, dockerfile: { location: `${root}/bridge/Dockerfile` }, push: true });
    expect(isSecretInput(run.one(T.image).raw.registries)).toBe(true);
    expect(run.one(T.image).inputs.registries[0]).toMatchObject({ address: `scimbridge${SUFFIX}.azurecr.io`, password: ACR_REFRESH_TOKEN });
    expect(Object.fromEntries(new URLSearchParams(run.fetchCalls[0].body))).toMatchObject({ tenant: TENANT, access_token: ENTRA_TOKEN });
    expect(bridge().image).toBe(`scimbridge${SUFFIX}.azurecr.io/scim-bridge:latest@sha256:0123456789abcdef`);
    expect(job().template.containers[0].image).toBe(bridge().image);
  });
});

describe('the app connects as its own role, verified', () => {
  test('SCIM_DATABASE_URL: the app role at the server FQDN (the name its certificate carries), verify-full against public roots, no password', () => {
    expect(env()[BRIDGE_ENV.databaseUrl]).toBe(APP_URL);
    expect(env()[BRIDGE_ENV.pgPassword]).toBe('secretRef:postgres-password');
  });

  test('its secrets are Key Vault references read through its identity: the session versionless (rotation), the password versioned', () => {
    const identity = run.one(T.identity, 'scim-bridge-identity').id;
    expect(app().identity).toEqual({ type: 'UserAssigned', userAssignedIdentities: [identity] });
    expect(app().configuration.secrets).toEqual([
      { name: 'scimsession', keyVaultUrl: `https://scim-kv-${SUFFIX}.vault.azure.net/secrets/scimsession`, identity },
      { name: 'postgres-password', keyVaultUrl: `https://scim-kv-${SUFFIX}.vault.azure.net/secrets/postgres-password/v1`, identity },
    ]);
    expect(app().configuration.registries).toEqual([{ server: `scimbridge${SUFFIX}.azurecr.io`, identity }]);
  });

  test('the administrator is nowhere in the app: not in its env or secrets, and its identity cannot read the admin secret', () => {
    const text = JSON.stringify(app());
    expect(text).not.toContain('scim_admin');
    expect(text).not.toContain(ADMIN_PASSWORD);
    expect(text).not.toContain('postgres-admin-url');
    expect(env()).not.toHaveProperty(BRIDGE_ENV.databaseAdminUrl);
    const scopes = grantsTo('app-principal-id').map((g) => g.inputs.scope);
    expect(scopes).not.toContain(secret('pg-admin-url').id);
    expect(scopes).not.toContain(run.one(T.vault).id);
  });

  test('the app waits for the bootstrap run, which waits for the job, which waits for the database and its TLS setting', () => {
    const jobRun = run.one(T.dynamic, 'scim-bridge-run');
    expect(run.waitsFor(run.one(T.app), jobRun)).toBe(true);
    expect(run.waitsFor(jobRun, run.one(T.job))).toBe(true);
    expect(run.waitsFor(run.one(T.job), run.one(T.database))).toBe(true);
    expect(run.waitsFor(run.one(T.job), run.one(T.pgConfig))).toBe(true);
  });
});

describe('scim-bridge db bootstrap, as a Container Apps job', () => {
  test('a manual job running the image entry point with `db bootstrap`, on its own identity', () => {
    expect(job().configuration).toMatchObject({ triggerType: 'Manual', manualTriggerConfig: { parallelism: 1, replicaCompletionCount: 1 } });
    expect(job().template.containers[0].args).toEqual(['db', 'bootstrap']);
    expect(job().identity.userAssignedIdentities).toEqual([run.one(T.identity, 'scim-bridge-bootstrap-identity').id]);
    expect(job().environmentId).toBe(run.one(T.env).id);
  });

  test('it gets the admin URL and the app URL with the app password by reference, versioned so a new password arrives in the same run', () => {
    const jobEnv = env(job().template.containers[0]);
    expect(jobEnv).toEqual({
      [BRIDGE_ENV.databaseAdminUrl]: 'secretRef:admin-url',
      [BRIDGE_ENV.databaseUrl]: APP_URL,
      [BRIDGE_ENV.pgPassword]: 'secretRef:app-password',
    });
    expect(job().configuration.secrets.map((s: { keyVaultUrl: string }) => s.keyVaultUrl)).toEqual([
      `https://scim-kv-${SUFFIX}.vault.azure.net/secrets/postgres-admin-url/v1`,
      `https://scim-kv-${SUFFIX}.vault.azure.net/secrets/postgres-password/v1`,
    ]);
  });

  test('the admin URL secret holds the administrator with its password at the server FQDN, verify-full', () => {
    expect(isSecretInput(secret('pg-admin-url').raw.properties)).toBe(true);
    expect(secret('pg-admin-url').inputs.properties.value).toBe(
      `postgres://scim_admin:${ADMIN_PASSWORD}@${SERVER_FQDN}:5432/scim_bridge?sslmode=verify-full&sslrootcert=system`,
    );
  });

  test('its identity reads exactly the admin URL and the app password (single secrets) and pulls the image', () => {
    const grants = grantsTo('bootstrap-principal-id');
    expect(grants.map((g) => g.inputs.scope).sort()).toEqual([secret('pg-admin-url').id, secret('pg-password').id, run.one(T.registry).id].sort());
    const roleOf = (scope: string) => grants.find((g) => g.inputs.scope === scope)!.inputs.roleDefinitionId;
    expect(roleOf(secret('pg-admin-url').id)).toBe(
      `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/${AZURE_ROLES.keyVaultSecretsUser}`,
    );
  });

  test('it runs again when the job is replaced, or the image or a password version changes', () => {
    expect(run.one(T.dynamic, 'scim-bridge-run').inputs.triggers).toEqual([
      run.one(T.job).id,
      `scimbridge${SUFFIX}.azurecr.io/scim-bridge:latest@sha256:0123456789abcdef`,
      `https://scim-kv-${SUFFIX}.vault.azure.net/secrets/postgres-admin-url/v1`,
      `https://scim-kv-${SUFFIX}.vault.azure.net/secrets/postgres-password/v1`,
    ]);
    expect(isSecretInput(run.one(T.dynamic, 'scim-bridge-run').raw.token)).toBe(true);
  });
});

describe('PostgreSQL Flexible Server', () => {
  const server = () => run.one(T.server).inputs;

  test('the shared defaults: PostgreSQL 17, the smallest size with an SLA, 7 days of backups, no standby', () => {
    expect(server()).toMatchObject({
      version: '17',
      sku: { name: 'Standard_B1ms', tier: 'Burstable' },
      storage: { storageSizeGB: 32, autoGrow: 'Enabled' },
      backup: { backupRetentionDays: 7, geoRedundantBackup: 'Disabled' },
      highAvailability: { mode: 'Disabled' },
      administratorLogin: 'scim_admin',
    });
    expect(isSecretInput(run.one(T.server).raw.administratorLoginPassword)).toBe(true);
  });

  test('private: in its delegated subnet with the linked private DNS zone, no public access, no firewall rule', () => {
    const subnet = run.one(T.subnet, 'scim-bridge-db-subnet');
    expect(subnet.inputs.delegations).toEqual([{ name: 'Microsoft.DBforPostgreSQL', serviceName: 'Microsoft.DBforPostgreSQL/flexibleServers' }]);
    expect(server().network).toEqual({ delegatedSubnetResourceId: subnet.id, privateDnsZoneArmResourceId: run.one(T.privateZone).id });
    expect(run.one(T.privateZone).inputs.privateZoneName).toMatch(/\.postgres\.database\.azure\.com$/);
    expect(run.one(T.privateZoneLink).inputs.virtualNetwork).toEqual({ id: run.one(T.vnet).id });
    expect(run.waitsFor(run.one(T.server), run.one(T.privateZoneLink))).toBe(true);
    expect(run.ofType(T.firewall)).toHaveLength(0);
  });

  test('only the Container Apps subnet reaches 5432; everything else in the VNet is denied', () => {
    const appsSubnet = run.one(T.subnet, 'scim-bridge-apps-subnet');
    expect(run.one(T.env).inputs.vnetConfiguration).toEqual({ infrastructureSubnetId: appsSubnet.id, internal: false });
    const rules = run.one(T.nsg).inputs.securityRules as Array<Record<string, unknown>>;
    expect(rules.filter((r) => r.access === 'Allow' && r.destinationPortRange === '5432')).toEqual([
      expect.objectContaining({ sourceAddressPrefix: appsSubnet.inputs.addressPrefix }),
    ]);
    const deny = rules.find((r) => r.access === 'Deny')!;
    expect(deny).toMatchObject({ sourceAddressPrefix: 'VirtualNetwork', destinationPortRange: '*' });
    for (const r of rules.filter((x) => x.access === 'Allow')) expect(r.priority as number).toBeLessThan(deny.priority as number);
  });

  test('TLS stays required', () => {
    expect(run.one(T.pgConfig).inputs).toMatchObject({ configurationName: 'require_secure_transport', value: 'on' });
  });

  test('no session or password appears outside the secrets that hold it, nor in an output', () => {
    const holders: Record<string, string[]> = {
      [SESSION]: ['scim-bridge-scimsession'],
      [APP_PASSWORD]: ['scim-bridge-pg-password', 'scim-bridge-app-password'],
      [ADMIN_PASSWORD]: ['scim-bridge-pg-admin-url', 'scim-bridge-admin-password', 'scim-bridge-pg'],
    };
    for (const [value, allowed] of Object.entries(holders)) {
      for (const r of run.resources) if (!allowed.includes(r.name)) expect(`${r.name} ${JSON.stringify(r.inputs)}`).not.toContain(value);
      expect(JSON.stringify(run.outputs)).not.toContain(value);
    }
  });

  test("the pool fits the server: 6 replicas twice over (a rolling deploy) and the job within B1ms's 35 user connections", () => {
    // 50 max_connections, 15 reserved; 2 per replica × 6 × 2 + 1 = 25.
    expect(env()[BRIDGE_ENV.databasePoolSize]).toBe('2');
  });
});

test('variants: shared names for sizing, an existing resource group, a given image, the email allow-list, Google Workspace', async () => {
  const r = await runAzure(
    {
      resourceGroupName: 'existing-rg',
      domain: 'scim.example.com',
      scimSession: SESSION,
      image: 'ghcr.io/example/scim-bridge:1.2.3',
      minReplicas: '3',
      maxReplicas: '9',
      cpu: '1',
      memoryMiB: '2048',
      targetConcurrentRequests: '80',
      allowedDomains: 'example.com,Example.org',
      logLevel: 'debug',
      database: JSON.stringify({ size: 'Standard_D2ds_v5', storageGiB: 64, backupRetentionDays: 35, highAvailability: true, geoRedundantBackup: true }),
      googleWorkspace: JSON.stringify({ adminEmail: 'admin@example.com', groups: ['eng@example.com'] }),
      googleCredentials: '{"type":"service_account"}',
    },
    ['scimSession', 'googleCredentials'],
  );
  const container = r.one(T.app).inputs.template.containers[0];
  const e = env(container);
  expect(r.ofType(T.group)).toHaveLength(0);
  expect(r.one(T.app).inputs).toMatchObject({ resourceGroupName: 'existing-rg', location: 'northeurope' });
  expect(r.ofType(T.image)).toHaveLength(0);
  expect(r.fetchCalls).toHaveLength(0);
  expect(container.image).toBe('ghcr.io/example/scim-bridge:1.2.3');
  expect(container.resources).toEqual({ cpu: 1, memory: '2Gi' });
  expect(r.one(T.app).inputs.template.scale).toMatchObject({ minReplicas: 3, maxReplicas: 9 });
  expect(r.one(T.app).inputs.template.scale.rules[0].http.metadata.concurrentRequests).toBe('80');
  expect(e).toMatchObject({ [BRIDGE_ENV.allowedDomains]: 'example.com,example.org', [BRIDGE_ENV.logLevel]: 'debug', [BRIDGE_ENV.databasePoolSize]: '5' });
  expect(e).toMatchObject({
    [BRIDGE_ENV.googleAdminEmail]: 'admin@example.com',
    [BRIDGE_ENV.googleCredentialsFile]: `${BRIDGE_IMAGE.sessionMountDir}/${BRIDGE_IMAGE.googleCredentialsFileName}`,
  });
  expect(r.one(T.app).inputs.template.volumes[0].secrets).toContainEqual({ secretRef: 'google-credentials', path: BRIDGE_IMAGE.googleCredentialsFileName });
  expect(r.one(T.server).inputs).toMatchObject({
    sku: { name: 'Standard_D2ds_v5', tier: 'GeneralPurpose' },
    storage: { storageSizeGB: 64 },
    backup: { backupRetentionDays: 35, geoRedundantBackup: 'Enabled' },
    highAvailability: { mode: 'ZoneRedundant' },
  });
  expect(isSecretInput(r.one(T.secret, 'scim-bridge-google').raw.properties)).toBe(true);
});
