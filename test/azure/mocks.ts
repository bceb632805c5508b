/**
 * Azure's part of the shared Pulumi harness: the values Azure computes (ids, host names, generated secrets) and the
 * answers to the data sources the program reads, plus the ACR token exchange the image build makes over fetch.
 */
import { type CloudMocks, type Run, SESSION, runStack } from '../support/pulumi-harness';

export { SESSION };

// Pulumi's closure serializer (it serializes the dynamic providers) requires every built-in module; under jest,
// node:test opens a reporter that keeps the worker from exiting. No program uses it.
jest.mock('node:test', () => ({}));
jest.mock('node:test/reporters', () => ({}));
// The serializer also opens an inspector session with the debugger enabled, once per copy of @pulumi/pulumi: the
// harness loads a fresh copy per run, so without one shared session every run adds one, slowing the worker down.
jest.mock('@pulumi/pulumi/runtime/closure/v8Hooks', () => {
  const shared = globalThis as { __pulumiV8Hooks?: unknown };
  return (shared.__pulumiV8Hooks ??= jest.requireActual('@pulumi/pulumi/runtime/closure/v8Hooks'));
});
export type { Run };

export const SUBSCRIPTION = '00000000-1111-2222-3333-444444444444';
export const TENANT = 'tenant-0000';
export const DEPLOYER = 'deployer-object-id';
export const ENV_DOMAIN = 'happy-river-1a2b3c.westeurope.azurecontainerapps.io';
export const VERIFICATION_ID = 'D1E2F3VERIFICATIONID';
export const SUFFIX = 'k3x9q2';
export const APP_PASSWORD = 'app-password-Aa1';
export const ADMIN_PASSWORD = 'admin-password-Bb2';
export const ENTRA_TOKEN = 'entra-access-token';
export const ACR_REFRESH_TOKEN = 'acr-refresh-token';
export const SERVER_FQDN = `scim-bridge-${SUFFIX}.postgres.database.azure.com`;
export const APP_FQDN = `scim-bridge.${ENV_DOMAIN}`;

export const T = {
  app: 'azure-native:app:ContainerApp',
  job: 'azure-native:app:Job',
  env: 'azure-native:app:ManagedEnvironment',
  cert: 'azure-native:app:ManagedCertificate',
  vault: 'azure-native:keyvault:Vault',
  secret: 'azure-native:keyvault:Secret',
  role: 'azure-native:authorization:RoleAssignment',
  lock: 'azure-native:authorization:ManagementLockByScope',
  identity: 'azure-native:managedidentity:UserAssignedIdentity',
  registry: 'azure-native:containerregistry:Registry',
  image: 'docker-build:index:Image',
  server: 'azure-native:dbforpostgresql:Server',
  database: 'azure-native:dbforpostgresql:Database',
  pgConfig: 'azure-native:dbforpostgresql:Configuration',
  firewall: 'azure-native:dbforpostgresql:FirewallRule',
  subnet: 'azure-native:network:Subnet',
  nsg: 'azure-native:network:NetworkSecurityGroup',
  vnet: 'azure-native:network:VirtualNetwork',
  privateZone: 'azure-native:privatedns:PrivateZone',
  privateZoneLink: 'azure-native:privatedns:VirtualNetworkLink',
  record: 'azure-native:dns:RecordSet',
  group: 'azure-native:resources:ResourceGroup',
  workspace: 'azure-native:operationalinsights:Workspace',
  dynamic: 'pulumi-nodejs:dynamic:Resource',
} as const;

const arm = (type: string, name: string) => `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/${type.split(':').slice(1).join('/')}/${name}`;

function computed(type: string, name: string, v: Record<string, any>): { id: string; outputs: Record<string, any> } {
  const out = (outputs: Record<string, any>, id = arm(type, outputs.name ?? name)) => ({ id, outputs });
  switch (type) {
    case 'random:index/randomString:RandomString':
      return out({ result: name.endsWith('-suffix') ? SUFFIX : 'r4nd0m' });
    case 'random:index/randomPassword:RandomPassword':
      return out({ result: name.includes('admin') ? ADMIN_PASSWORD : APP_PASSWORD });
    case T.group:
      return out({ name: `${name}-created` });
    case T.workspace:
      return out({ name: `${name}-ws`, customerId: 'workspace-customer-id' });
    case T.identity: {
      const who = name.includes('bootstrap') ? 'bootstrap' : 'app';
      return out({ name, principalId: `${who}-principal-id`, clientId: `${who}-client-id` });
    }
    case T.vault:
      return out({ name: v.vaultName, properties: { ...v.properties, vaultUri: `https://${v.vaultName}.vault.azure.net/` } });
    case T.secret: {
      // Like the real API: the value never comes back.
      const uri = `https://${v.vaultName}.vault.azure.net/secrets/${v.secretName}`;
      return out(
        { name: v.secretName, properties: { contentType: v.properties?.contentType, secretUri: uri, secretUriWithVersion: `${uri}/v1` } },
        `${arm(T.vault, v.vaultName)}/secrets/${v.secretName}`,
      );
    }
    case T.registry:
      return out({ name: v.registryName, loginServer: `${v.registryName}.azurecr.io` });
    case T.env:
      return out({ name: `${name}-env`, defaultDomain: ENV_DOMAIN, customDomainConfiguration: { customDomainVerificationId: VERIFICATION_ID } });
    case T.server:
      return out({ name: v.serverName, fullyQualifiedDomainName: `${v.serverName}.postgres.database.azure.com` });
    case T.privateZone:
      return out({ name: v.privateZoneName });
    case T.app:
      return out({ name: v.containerAppName, latestRevisionFqdn: `${v.containerAppName}--r1.${ENV_DOMAIN}` });
    case T.job:
      return out({ name: v.jobName }, `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.App/jobs/${v.jobName}`);
    case T.image:
      return out({ ref: `${v.tags[0]}@sha256:0123456789abcdef`, digest: 'sha256:0123456789abcdef' });
    case T.dynamic:
      return out({ execution: `${name}-exec-1`, status: 'Succeeded' }, `${name}-id`);
    default:
      return out({ name: `${name}-physical` });
  }
}

function answer(token: string, inputs: any): Record<string, any> {
  switch (token) {
    case 'azure-native:authorization:getClientConfig':
      return { clientId: 'deployer-client', objectId: DEPLOYER, subscriptionId: SUBSCRIPTION, tenantId: TENANT };
    case 'azure-native:authorization:getClientToken':
      return { token: ENTRA_TOKEN };
    case 'azure-native:operationalinsights:getSharedKeys':
      return { primarySharedKey: 'workspace-shared-key', secondarySharedKey: 'other' };
    case 'azure-native:resources:getResourceGroup':
      return { name: inputs.resourceGroupName, location: 'northeurope', id: `/subscriptions/${SUBSCRIPTION}/resourceGroups/${inputs.resourceGroupName}` };
    default:
      throw new Error(`unexpected invoke ${token}`);
  }
}

export const AZURE_MOCKS: CloudMocks = { cloud: 'azure', computed, answer };

/** A stack with the least configuration: region, domain and the scimsession (as a secret). */
export const BASE = { location: 'westeurope', domain: 'scim.example.com', scimSession: SESSION } as const;

export interface AzureRun extends Run {
  /** Requests the program sent over fetch (the ACR token exchange). */
  fetchCalls: { url: string; body: string }[];
}

/** Runs `pulumi up -s azure` against the mocks with these `scim-bridge:` keys (`scimSession` stored as a secret). */
export async function runAzure(config: Record<string, string>, secretKeys: string[] = ['scimSession', 'googleCredentials']): Promise<AzureRun> {
  const fetchCalls: { url: string; body: string }[] = [];
  const spy = jest.spyOn(globalThis, 'fetch').mockImplementation(async (url: any, init: any) => {
    fetchCalls.push({ url: String(url), body: String(init?.body ?? '') });
    return Response.json({ refresh_token: ACR_REFRESH_TOKEN });
  });
  try {
    const run = await runStack(AZURE_MOCKS, { config, secretKeys });
    return Object.assign(run, { fetchCalls });
  } finally {
    spy.mockRestore();
  }
}
