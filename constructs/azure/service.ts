/**
 * The container app: external HTTPS-only ingress on the contract port, probes from the shared plan within Container
 * Apps' limits, autoscaling on concurrent requests (and CPU), the bridge's shared environment, and its secrets as Key
 * Vault references read through its own identity (the scimsession and the Google key as files, the database password
 * as PGPASSWORD). It connects as its own role `scim_bridge`, never as the server administrator.
 */
import * as pulumi from '@pulumi/pulumi';
import * as app from '@pulumi/azure-native/app';
import type * as keyvault from '@pulumi/azure-native/keyvault';
import type * as azureInputs from '@pulumi/azure-native/types/input';
import { BRIDGE_ENV, BRIDGE_IMAGE, BRIDGE_PORT, BRIDGE_SIZING } from '../../contract';
import { type Probe, bridgeEnvironment, envList, probePlan } from '../common';
import type { AzureContext, ContainerPlacement, ResolvedAzureArgs } from './args';
import { runsOn } from './environment';

/**
 * Container Apps' ingress (Envoy) appends the address of the client it accepted the connection from to
 * X-Forwarded-For, and only that rightmost address is the platform's; any earlier one came from the client
 * (learn.microsoft.com/azure/container-apps/ingress-overview#http-headers). So the bridge trusts exactly one hop.
 */
export const CONTAINER_APPS_PROXY_HOPS = 1;

/**
 * Container Apps probe limits (ContainerAppProbe in the Microsoft.App API): failureThreshold 1–10, periodSeconds and
 * timeoutSeconds 1–240, successThreshold 1–10 and exactly 1 for liveness and startup, one probe of each type.
 */
export const PROBE_LIMITS = { maxFailureThreshold: 10, startupPeriodSeconds: 5, timeoutBelowPeriod: true } as const;

export const APP_SECRETS = {
  session: 'scimsession',
  databasePassword: 'postgres-password',
  google: 'google-credentials',
  webhookSecrets: 'webhook-secrets',
} as const;
const FILES_VOLUME = 'secrets';

export interface BridgeServiceArgs extends AzureContext, ContainerPlacement {
  readonly resolved: ResolvedAzureArgs;
  readonly session: keyvault.Secret;
  readonly databasePassword: keyvault.Secret;
  readonly google?: keyvault.Secret;
  readonly webhookSecrets?: keyvault.Secret;
  readonly databaseUrl: pulumi.Input<string>;
  readonly customDomains?: azureInputs.app.CustomDomainArgs[];
  /** What the first revision needs: the bootstrap run, the pause after the role assignments, the DNS records. */
  readonly after: pulumi.Resource[];
}

const probe = (type: string, p: Probe) => ({
  type,
  httpGet: { path: p.path, port: p.port, scheme: 'HTTP' },
  periodSeconds: p.periodSeconds,
  timeoutSeconds: p.timeoutSeconds,
  failureThreshold: p.failureThreshold,
  successThreshold: p.successThreshold,
});

export class BridgeService extends pulumi.ComponentResource {
  public readonly containerApp: app.ContainerApp;

  constructor(name: string, args: BridgeServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super('scim-bridge:azure:Service', name, {}, opts);
    const r = args.resolved;
    const identity = args.identity.id;
    const { placement, registries } = runsOn(args);
    const plan = probePlan(PROBE_LIMITS);
    const mounted = (file: string) => `${BRIDGE_IMAGE.sessionMountDir}/${file}`;
    const files: azureInputs.app.SecretVolumeItemArgs[] = [{ secretRef: APP_SECRETS.session, path: BRIDGE_IMAGE.sessionFileName }];
    // Versionless references follow the latest version (scimsession rotation without a deploy); the database password
    // is versioned, so a new one arrives in the revision that follows the bootstrap run that set it.
    const secrets: azureInputs.app.SecretArgs[] = [
      { name: APP_SECRETS.session, keyVaultUrl: args.session.properties.secretUri, identity },
      { name: APP_SECRETS.databasePassword, keyVaultUrl: args.databasePassword.properties.secretUriWithVersion, identity },
    ];
    const env: azureInputs.app.EnvironmentVarArgs[] = [
      ...envList(bridgeEnvironment(r, { trustProxy: CONTAINER_APPS_PROXY_HOPS, databasePoolSize: r.poolSize })),
      { name: BRIDGE_ENV.sessionFile, value: mounted(BRIDGE_IMAGE.sessionFileName) },
      { name: BRIDGE_ENV.databaseUrl, value: args.databaseUrl },
      { name: BRIDGE_ENV.pgPassword, secretRef: APP_SECRETS.databasePassword },
    ];
    if (args.google) {
      secrets.push({ name: APP_SECRETS.google, keyVaultUrl: args.google.properties.secretUri, identity });
      files.push({ secretRef: APP_SECRETS.google, path: BRIDGE_IMAGE.googleCredentialsFileName });
      env.push({ name: BRIDGE_ENV.googleCredentialsFile, value: mounted(BRIDGE_IMAGE.googleCredentialsFileName) });
    }
    if (args.webhookSecrets) {
      // Versionless, like the scimsession: a new secret arrives without a deploy.
      secrets.push({ name: APP_SECRETS.webhookSecrets, keyVaultUrl: args.webhookSecrets.properties.secretUri, identity });
      env.push({ name: BRIDGE_ENV.webhookSecrets, secretRef: APP_SECRETS.webhookSecrets });
    }
    const rules: azureInputs.app.ScaleRuleArgs[] = [
      { name: 'http-concurrency', http: { metadata: { concurrentRequests: String(r.targetConcurrentRequests) } } },
    ];
    // KEDA's CPU scaler cannot scale to zero, so it joins only when a replica always runs.
    if (r.minReplicas >= 1) rules.push({ name: 'cpu', custom: { type: 'cpu', metadata: { type: 'Utilization', value: String(r.targetCpuPercent) } } });

    this.containerApp = new app.ContainerApp(
      `${name}-app`,
      {
        ...placement,
        containerAppName: r.appName,
        configuration: {
          activeRevisionsMode: 'Single',
          ingress: {
            external: true,
            targetPort: BRIDGE_PORT,
            allowInsecure: false,
            transport: 'auto',
            traffic: [{ latestRevision: true, weight: 100 }],
            customDomains: args.customDomains,
          },
          registries,
          secrets,
        },
        template: {
          containers: [
            {
              name: 'bridge',
              image: args.imageRef,
              resources: { cpu: r.cpu, memory: `${r.memoryMiB / 1024}Gi` },
              env,
              volumeMounts: [{ volumeName: FILES_VOLUME, mountPath: BRIDGE_IMAGE.sessionMountDir }],
              // Liveness is shallow (/ping): a database outage must not turn into replica churn.
              probes: [probe('Liveness', plan.liveness), probe('Readiness', plan.readiness), probe('Startup', plan.startup)],
            },
          ],
          // Secret files that follow their Key Vault secrets; the bridge watches the scimsession (token rotation).
          volumes: [{ name: FILES_VOLUME, storageType: 'Secret', secrets: files }],
          scale: { minReplicas: r.minReplicas, maxReplicas: r.maxReplicas, rules },
          terminationGracePeriodSeconds: BRIDGE_SIZING.shutdownGraceSeconds,
        },
      },
      { parent: this, dependsOn: args.after },
    );
    this.registerOutputs({ fqdn: this.containerApp.latestRevisionFqdn });
  }
}
