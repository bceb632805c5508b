/**
 * Runs the Azure stack program against Pulumi mocks (no CLI, no plugins, no network) and records what it registers:
 * every resource's inputs (secret markers kept), its dependencies, the invokes and the ACR token exchange.
 */
/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-require-imports */
import { SESSION, isSecretInput, reveal } from '../support/pulumi-inputs';

export { SESSION, isSecretInput, reveal };

export const SUBSCRIPTION = '00000000-1111-2222-3333-444444444444';
export const TENANT = 'tenant-0000';
export const ENV_DOMAIN = 'happy-river-1a2b3c.westeurope.azurecontainerapps.io';
export const VERIFICATION_ID = 'D1E2F3VERIFICATIONID';
export const SUFFIX = 'k3x9q2';
export const DB_PASSWORD = 'generated-db-password-Aa1';
export const ENTRA_TOKEN = 'entra-access-token';
export const ACR_REFRESH_TOKEN = 'acr-refresh-token';

export interface Recorded {
  type: string;
  name: string;
  urn: string;
  id: string;
  /** Inputs as the engine received them (secrets still marked). */
  raw: Record<string, any>;
  /** Inputs with secret markers removed. */
  inputs: Record<string, any>;
  /** URNs this resource depends on. */
  dependsOn: string[];
}

export interface Run {
  resources: Recorded[];
  outputs: Record<string, any>;
  invokes: { token: string; inputs: any }[];
  fetchCalls: { url: string; body: string }[];
  ofType(type: string): Recorded[];
  one(type: string, name?: string): Recorded;
  dependsOn(from: Recorded, to: Recorded): boolean;
}

function outputsFor(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
  const v = reveal(inputs);
  switch (type) {
    case 'random:index/randomString:RandomString':
      return { result: SUFFIX };
    case 'random:index/randomPassword:RandomPassword':
      return { result: DB_PASSWORD };
    case 'azure-native:resources:ResourceGroup':
      return { name: `${name}-created` };
    case 'azure-native:operationalinsights:Workspace':
      return { name: `${name}-ws`, customerId: 'workspace-customer-id' };
    case 'azure-native:managedidentity:UserAssignedIdentity':
      return { name: `${name}-id`, principalId: 'identity-principal-id', clientId: 'identity-client-id' };
    case 'azure-native:keyvault:Vault':
      return { name: v.vaultName, properties: { ...v.properties, vaultUri: `https://${v.vaultName}.vault.azure.net/` } };
    case 'azure-native:keyvault:Secret': {
      // Like the real API: the value is never returned.
      const uri = `https://${v.vaultName}.vault.azure.net/secrets/${v.secretName}`;
      return { name: v.secretName, properties: { contentType: v.properties?.contentType, secretUri: uri, secretUriWithVersion: `${uri}/0123abcd` } };
    }
    case 'azure-native:containerregistry:Registry':
      return { name: v.registryName, loginServer: `${v.registryName}.azurecr.io` };
    case 'azure-native:app:ManagedEnvironment':
      return {
        name: `${name}-env`,
        defaultDomain: ENV_DOMAIN,
        staticIp: '20.50.60.70',
        customDomainConfiguration: { customDomainVerificationId: VERIFICATION_ID },
      };
    case 'azure-native:dbforpostgresql:Server':
      return { name: v.serverName, fullyQualifiedDomainName: `${v.serverName}.postgres.database.azure.com` };
    case 'azure-native:privatedns:PrivateZone':
      return { name: v.privateZoneName };
    case 'azure-native:app:ContainerApp':
      return { name: v.containerAppName };
    case 'docker-build:index:Image':
      return { ref: `${v.tags[0]}@sha256:0123456789abcdef`, digest: 'sha256:0123456789abcdef' };
    default:
      return { name: `${name}-physical` };
  }
}

function answer(token: string, inputs: any): Record<string, any> {
  switch (token) {
    case 'azure-native:authorization:getClientConfig':
      return { clientId: 'deployer-client', objectId: 'deployer-object', subscriptionId: SUBSCRIPTION, tenantId: TENANT };
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

function resolveOutput(pulumi: any, value: any): Promise<any> {
  if (!pulumi.Output.isInstance(value)) return Promise.resolve(value);
  return new Promise((resolve) => value.apply((v: any) => resolve(v)));
}

/**
 * Sets the stack configuration (keys without the `scim-bridge:` prefix), loads a fresh copy of the program and
 * runs deploy(). Throws what deploy() throws (configuration errors).
 */
export async function runAzureStack(config: Record<string, string>, secretKeys: string[] = ['scimSession']): Promise<Run> {
  const resources: Recorded[] = [];
  const invokes: { token: string; inputs: any }[] = [];
  const fetchCalls: { url: string; body: string }[] = [];
  const dependencies = new Map<string, string[]>();
  let pulumi: any;
  let settings: any;
  let outputs: Record<string, any> = {};

  const fetchSpy = jest.spyOn(globalThis, 'fetch').mockImplementation(async (url: any, init: any) => {
    fetchCalls.push({ url: String(url), body: String(init?.body ?? '') });
    return new Response(JSON.stringify({ refresh_token: ACR_REFRESH_TOKEN }), { status: 200, headers: { 'content-type': 'application/json' } });
  });
  try {
    jest.isolateModules(() => {
      pulumi = require('@pulumi/pulumi');
      settings = require('@pulumi/pulumi/runtime/settings');
      pulumi.runtime.setMocks(
        {
          newResource(args: any) {
            const base = outputsFor(args.type, args.name, args.inputs);
            const id = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/${args.type}/${base.name ?? args.name}`;
            resources.push({
              type: args.type,
              name: args.name,
              urn: '',
              id,
              raw: args.inputs,
              inputs: reveal(args.inputs),
              dependsOn: [],
            });
            return { id, state: { ...args.inputs, ...base } };
          },
          call(args: any) {
            invokes.push({ token: args.token, inputs: args.inputs });
            return answer(args.token, args.inputs);
          },
        },
        'scim-bridge',
        'azure',
        false,
      );
      // Record each registration's dependencies (the mocks API does not pass them on).
      const monitor = settings.getMonitor();
      const register = monitor.registerResource.bind(monitor);
      monitor.registerResource = (req: any, callback: any) => {
        dependencies.set(`${req.getType()}::${req.getName()}`, req.getDependenciesList());
        return register(req, (err: any, response: any) => {
          const match = resources.find((r) => r.type === req.getType() && r.name === req.getName());
          if (match && response) match.urn = response.getUrn();
          callback(err, response);
        });
      };
      const prefixed = Object.fromEntries(Object.entries(config).map(([k, v]) => [`scim-bridge:${k}`, v]));
      pulumi.runtime.setAllConfig({ 'scim-bridge:cloud': 'azure', ...prefixed }, secretKeys.map((k) => `scim-bridge:${k}`));
      outputs = require('../../stacks/pulumi/azure').deploy();
    });
    const resolved: Record<string, any> = {};
    for (const [key, value] of Object.entries(outputs)) resolved[key] = await resolveOutput(pulumi, value);
    await settings.waitForRPCs();
    for (const r of resources) r.dependsOn = dependencies.get(`${r.type}::${r.name}`) ?? [];

    const ofType = (type: string) => resources.filter((r) => r.type === type);
    return {
      resources,
      outputs: resolved,
      invokes,
      fetchCalls,
      ofType,
      one(type: string, name?: string) {
        const found = ofType(type).filter((r) => name === undefined || r.name === name);
        if (found.length !== 1) throw new Error(`expected one ${type}${name ? ` named ${name}` : ''}, found ${found.length}`);
        return found[0];
      },
      dependsOn: (from: Recorded, to: Recorded) => from.dependsOn.includes(to.urn),
    };
  } finally {
    fetchSpy.mockRestore();
  }
}

export const T = {
  app: 'azure-native:app:ContainerApp',
  env: 'azure-native:app:ManagedEnvironment',
  cert: 'azure-native:app:ManagedCertificate',
  vault: 'azure-native:keyvault:Vault',
  secret: 'azure-native:keyvault:Secret',
  role: 'azure-native:authorization:RoleAssignment',
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
} as const;
