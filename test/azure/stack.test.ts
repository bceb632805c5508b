/**
 * The Azure stack with default settings (new resource group, image built at `pulumi up`, no custom domain):
 * every promise of issue 7 checked on the inputs the engine receives.
 */
import { AZURE_ROLES } from '../../constructs/azure';
import { BRIDGE_IMAGE, BRIDGE_PATHS, BRIDGE_PORT } from '../../contract';
import {
  ACR_REFRESH_TOKEN,
  DB_PASSWORD,
  ENTRA_TOKEN,
  ENV_DOMAIN,
  Run,
  SESSION,
  SUBSCRIPTION,
  T,
  TENANT,
  isSecretInput,
  runAzureStack,
} from './harness';

const roleId = (id: string) => `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/${id}`;
const APP_FQDN = `scim-bridge.${ENV_DOMAIN}`;

let run: Run;
beforeAll(async () => {
  run = await runAzureStack({ location: 'westeurope', scimSession: SESSION });
});

const app = () => run.one(T.app).inputs;
const container = () => app().template.containers[0];
const probe = (type: string) => container().probes.find((p: { type: string }) => p.type === type);
const identity = () => run.one(T.identity);
const identityId = () => identity().id;

describe('container app', () => {
  test('external HTTPS-only ingress on the contract port', () => {
    expect(app().configuration.ingress).toMatchObject({ external: true, allowInsecure: false, targetPort: BRIDGE_PORT, transport: 'auto' });
    expect(app().configuration.ingress.customDomains).toBeUndefined();
  });

  test('liveness on /ping, readiness and startup on /health, all on the contract port', () => {
    expect(probe('Liveness').httpGet).toEqual({ path: BRIDGE_PATHS.liveness, port: BRIDGE_PORT, scheme: 'HTTP' });
    expect(probe('Readiness').httpGet).toEqual({ path: BRIDGE_PATHS.readiness, port: BRIDGE_PORT, scheme: 'HTTP' });
    expect(probe('Startup').httpGet).toEqual({ path: BRIDGE_PATHS.readiness, port: BRIDGE_PORT, scheme: 'HTTP' });
    // Startup allows a minute before the platform gives up on a replica.
    expect(probe('Startup').periodSeconds * probe('Startup').failureThreshold).toBeGreaterThanOrEqual(60);
  });

  test('min/max replicas and an HTTP concurrency rule from the contract defaults', () => {
    expect(app().template.scale).toEqual({
      minReplicas: 2,
      maxReplicas: 6,
      rules: [{ name: 'http-concurrency', http: { metadata: { concurrentRequests: '50' } } }],
    });
  });

  test('runs on the consumption profile of the environment with the user-assigned identity only', () => {
    expect(app().environmentId).toBe(run.one(T.env).id);
    expect(app().workloadProfileName).toBe('Consumption');
    expect(app().identity).toEqual({ type: 'UserAssigned', userAssignedIdentities: [identityId()] });
  });

  test('bridgeUrl is the default host name SCIM base URL, no trailing slash', () => {
    expect(run.outputs.bridgeUrl).toBe(`https://${APP_FQDN}/scim/v2`);
    expect(run.outputs.nextSteps).toContain(run.outputs.bridgeUrl);
    expect(run.outputs.nextSteps).toContain('pulumi config set --secret scimSession');
    expect(run.outputs.dnsRecords).toBeUndefined();
  });
});

describe('scimsession in Key Vault, read through the managed identity', () => {
  test('the vault authorizes with RBAC, keeps deleted secrets and cannot be purged', () => {
    expect(run.one(T.vault).inputs.properties).toMatchObject({
      tenantId: TENANT,
      enableRbacAuthorization: true,
      enableSoftDelete: true,
      enablePurgeProtection: true,
    });
    expect(run.one(T.vault).inputs.properties.accessPolicies).toBeUndefined();
  });

  test('the only data-plane role is Key Vault Secrets User for the identity, scoped to that vault', () => {
    const vaultRoles = run.ofType(T.role).filter((r) => r.inputs.roleDefinitionId === roleId(AZURE_ROLES.keyVaultSecretsUser));
    expect(vaultRoles).toHaveLength(1);
    expect(vaultRoles[0].inputs).toMatchObject({
      scope: run.one(T.vault).id,
      principalId: 'identity-principal-id',
      principalType: 'ServicePrincipal',
    });
    // Nothing is granted at a wider scope (resource group or subscription).
    const scopes = [run.one(T.vault).id, run.one(T.registry).id];
    for (const role of run.ofType(T.role)) expect(scopes).toContain(role.inputs.scope);
  });

  test('the scimsession Key Vault secret gets the session as a Pulumi secret', () => {
    const secret = run.one(T.secret, 'scim-bridge-scimsession');
    expect(isSecretInput(secret.raw.properties)).toBe(true);
    expect(secret.inputs.properties.value).toBe(SESSION);
    expect(secret.inputs).toMatchObject({ secretName: 'scimsession', vaultName: run.one(T.vault).inputs.vaultName });
  });

  test('no session or password value appears in any other resource input or stack output', () => {
    const holders = new Set(['scim-bridge-scimsession', 'scim-bridge-pg-password']);
    for (const r of run.resources) {
      if (holders.has(r.name)) continue;
      const text = JSON.stringify(r.inputs);
      expect(text).not.toContain(SESSION);
      // The server needs its admin password, as a secret.
      if (r.type !== T.server) expect(text).not.toContain(DB_PASSWORD);
    }
    expect(JSON.stringify(run.outputs)).not.toContain(SESSION);
    expect(JSON.stringify(run.outputs)).not.toContain(DB_PASSWORD);
  });

  test('app secrets are Key Vault references through the identity, with no value in the app', () => {
    const secrets = app().configuration.secrets;
    expect(secrets).toEqual([
      { name: 'scimsession', keyVaultUrl: 'https://scim-kv-k3x9q2.vault.azure.net/secrets/scimsession', identity: identityId() },
      { name: 'postgres-password', keyVaultUrl: 'https://scim-kv-k3x9q2.vault.azure.net/secrets/postgres-password', identity: identityId() },
    ]);
    // Versionless URLs, so a new secret version reaches the app without a redeploy.
    for (const s of secrets) expect(s.keyVaultUrl).not.toMatch(/secrets\/[^/]+\/[^/]+$/);
  });

  test('the session is mounted as a file at the contract path and SCIM_SESSION_FILE points at it', () => {
    expect(app().template.volumes).toEqual([
      { name: 'scimsession', storageType: 'Secret', secrets: [{ secretRef: 'scimsession', path: BRIDGE_IMAGE.sessionFileName }] },
    ]);
    expect(container().volumeMounts).toEqual([{ volumeName: 'scimsession', mountPath: BRIDGE_IMAGE.sessionMountDir }]);
    expect(container().env).toContainEqual({ name: 'SCIM_SESSION_FILE', value: `${BRIDGE_IMAGE.sessionMountDir}/${BRIDGE_IMAGE.sessionFileName}` });
    expect(container().env.find((e: { name: string }) => e.name === 'SCIM_SESSION')).toBeUndefined();
  });

  test('the app waits for both role assignments (first revision reads Key Vault and pulls the image)', () => {
    const appResource = run.one(T.app);
    for (const role of run.ofType(T.role)) expect(run.dependsOn(appResource, role)).toBe(true);
  });
});

describe('image from the registry, pulled with the identity', () => {
  test('the registry has no admin user and the identity holds AcrPull on it alone', () => {
    expect(run.one(T.registry).inputs).toMatchObject({ adminUserEnabled: false, sku: { name: 'Basic' } });
    const pull = run.ofType(T.role).filter((r) => r.inputs.roleDefinitionId === roleId(AZURE_ROLES.acrPull));
    expect(pull).toHaveLength(1);
    expect(pull[0].inputs).toMatchObject({ scope: run.one(T.registry).id, principalId: 'identity-principal-id', principalType: 'ServicePrincipal' });
  });

  test('the app pulls with the identity, not a password', () => {
    expect(app().configuration.registries).toEqual([{ server: 'scimbridgek3x9q2.azurecr.io', identity: identityId() }]);
  });

  test('the image is built from bridge/Dockerfile at the repository root and pushed for linux/amd64', () => {
    const image = run.one(T.image).inputs;
    const root = require('node:path').resolve(__dirname, '../..');
    expect(image).toMatchObject({
      context: { location: root },
      dockerfile: { location: `${root}/bridge/Dockerfile` },
      push: true,
      platforms: ['linux/amd64'],
      tags: ['scimbridgek3x9q2.azurecr.io/scim-bridge:latest'],
    });
    expect(container().image).toBe('scimbridgek3x9q2.azurecr.io/scim-bridge:latest@sha256:0123456789abcdef');
  });

  test('the push uses a token exchanged from the deployer Entra token, kept secret', () => {
    const image = run.one(T.image);
    expect(isSecretInput(image.raw.registries)).toBe(true);
    expect(image.inputs.registries).toEqual([
      { address: 'scimbridgek3x9q2.azurecr.io', username: '00000000-0000-0000-0000-000000000000', password: ACR_REFRESH_TOKEN },
    ]);
    expect(run.fetchCalls).toHaveLength(1);
    expect(run.fetchCalls[0].url).toBe('https://scimbridgek3x9q2.azurecr.io/oauth2/exchange');
    const form = new URLSearchParams(run.fetchCalls[0].body);
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'access_token',
      service: 'scimbridgek3x9q2.azurecr.io',
      tenant: TENANT,
      access_token: ENTRA_TOKEN,
    });
  });
});

describe('PostgreSQL Flexible Server', () => {
  test('backups are on with the default retention, geo-redundancy off', () => {
    expect(run.one(T.server).inputs.backup).toEqual({ backupRetentionDays: 7, geoRedundantBackup: 'Disabled' });
    expect(run.one(T.server).inputs.sku).toEqual({ name: 'Standard_B1ms', tier: 'Burstable' });
  });

  test('no public endpoint: the server lives in its own delegated subnet with a linked private DNS zone', () => {
    const dbSubnet = run.one(T.subnet, 'scim-bridge-db-subnet');
    expect(dbSubnet.inputs.delegations).toEqual([{ name: 'postgres-flexible', serviceName: 'Microsoft.DBforPostgreSQL/flexibleServers' }]);
    expect(run.one(T.server).inputs.network).toEqual({
      delegatedSubnetResourceId: dbSubnet.id,
      privateDnsZoneArmResourceId: run.one(T.privateZone).id,
      publicNetworkAccess: 'Disabled',
    });
    expect(run.one(T.privateZone).inputs.privateZoneName).toMatch(/\.private\.postgres\.database\.azure\.com$/);
    expect(run.one(T.privateZoneLink).inputs.virtualNetwork).toEqual({ id: run.one(T.vnet).id });
    expect(run.dependsOn(run.one(T.server), run.one(T.privateZoneLink))).toBe(true);
    expect(run.ofType(T.firewall)).toHaveLength(0);
  });

  test('only the Container Apps subnet may reach port 5432', () => {
    const appsSubnet = run.one(T.subnet, 'scim-bridge-apps-subnet');
    expect(appsSubnet.inputs.delegations).toEqual([{ name: 'container-apps', serviceName: 'Microsoft.App/environments' }]);
    expect(run.one(T.env).inputs.vnetConfiguration).toEqual({ infrastructureSubnetId: appsSubnet.id, internal: false });
    const rules = run.one(T.nsg).inputs.securityRules as Array<Record<string, unknown>>;
    const allow5432 = rules.filter((r) => r.access === 'Allow' && r.destinationPortRange === '5432');
    expect(allow5432).toEqual([expect.objectContaining({ sourceAddressPrefix: appsSubnet.inputs.addressPrefix, direction: 'Inbound' })]);
    expect(rules).toContainEqual(expect.objectContaining({ access: 'Deny', sourceAddressPrefix: 'VirtualNetwork', destinationPortRange: '*' }));
    const deny = rules.find((r) => r.access === 'Deny')!;
    for (const r of rules.filter((x) => x.access === 'Allow')) expect(r.priority as number).toBeLessThan(deny.priority as number);
    expect(run.one(T.subnet, 'scim-bridge-db-subnet').inputs.networkSecurityGroup).toEqual({ id: run.one(T.nsg).id });
  });

  test('TLS stays required', () => {
    expect(run.one(T.pgConfig).inputs).toMatchObject({ configurationName: 'require_secure_transport', value: 'on' });
  });

  test('the generated password is kept in Key Vault and given to the app as PGPASSWORD by reference', () => {
    const secret = run.one(T.secret, 'scim-bridge-pg-password');
    expect(isSecretInput(secret.raw.properties)).toBe(true);
    expect(secret.inputs.properties.value).toBe(DB_PASSWORD);
    expect(isSecretInput(run.one(T.server).raw.administratorLoginPassword)).toBe(true);
    expect(container().env).toContainEqual({ name: 'PGPASSWORD', secretRef: 'postgres-password' });
  });

  test('SCIM_DATABASE_URL names user, host, port and database, requires TLS and holds no password', () => {
    expect(container().env).toContainEqual({
      name: 'SCIM_DATABASE_URL',
      value: 'postgres://scim_bridge@scim-bridge-k3x9q2.postgres.database.azure.com:5432/scim_bridge?sslmode=require',
    });
    expect(run.one(T.database).inputs).toMatchObject({ databaseName: 'scim_bridge', serverName: 'scim-bridge-k3x9q2' });
  });
});

describe('environment and logs', () => {
  test('a new resource group in the configured region holds everything', () => {
    expect(run.one(T.group).inputs.location).toBe('westeurope');
    expect(run.one(T.app).inputs.resourceGroupName).toBe('scim-bridge-rg-created');
  });

  test('the environment ships logs to the workspace with its key as a secret', () => {
    const env = run.one(T.env);
    expect(env.inputs.appLogsConfiguration).toEqual({
      destination: 'log-analytics',
      logAnalyticsConfiguration: { customerId: 'workspace-customer-id', sharedKey: 'workspace-shared-key' },
    });
    expect(isSecretInput(env.raw.appLogsConfiguration)).toBe(true);
    expect(run.one(T.workspace).inputs.retentionInDays).toBe(30);
  });
});

describe('configuration variants', () => {
  test('replica bounds and concurrency follow the configuration', async () => {
    const r = await runAzureStack({ location: 'westeurope', scimSession: SESSION, minReplicas: '3', maxReplicas: '9', concurrency: '80' });
    expect(r.one(T.app).inputs.template.scale).toEqual({
      minReplicas: 3,
      maxReplicas: 9,
      rules: [{ name: 'http-concurrency', http: { metadata: { concurrentRequests: '80' } } }],
    });
  });

  test('a given image is run as is: no build, no token exchange, still pulled through the identity', async () => {
    const r = await runAzureStack({ location: 'westeurope', scimSession: SESSION, image: 'ghcr.io/example/scim-bridge:1.2.3' });
    expect(r.ofType(T.image)).toHaveLength(0);
    expect(r.fetchCalls).toHaveLength(0);
    expect(r.one(T.app).inputs.template.containers[0].image).toBe('ghcr.io/example/scim-bridge:1.2.3');
    expect(r.outputs.imageRef).toBe('ghcr.io/example/scim-bridge:1.2.3');
  });

  test('an existing resource group is used, in its own region, without creating one', async () => {
    const r = await runAzureStack({ resourceGroupName: 'existing-rg', scimSession: SESSION });
    expect(r.ofType(T.group)).toHaveLength(0);
    expect(r.one(T.app).inputs).toMatchObject({ resourceGroupName: 'existing-rg', location: 'northeurope' });
    expect(r.invokes.map((i) => i.token)).toContain('azure-native:resources:getResourceGroup');
  });

  test('postgres sizing, retention and geo-redundant backups follow the configuration', async () => {
    const r = await runAzureStack({
      location: 'westeurope',
      scimSession: SESSION,
      postgresSku: 'Standard_D2ds_v5',
      postgresStorageGb: '64',
      postgresBackupRetentionDays: '35',
      postgresGeoRedundantBackup: 'true',
    });
    expect(r.one(T.server).inputs).toMatchObject({
      sku: { name: 'Standard_D2ds_v5', tier: 'GeneralPurpose' },
      storage: { storageSizeGB: 64, autoGrow: 'Enabled' },
      backup: { backupRetentionDays: 35, geoRedundantBackup: 'Enabled' },
    });
  });
});
