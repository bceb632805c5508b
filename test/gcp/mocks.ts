/**
 * Google Cloud's side of the shared Pulumi harness: the values GCP computes (ids, addresses, DNS names, CA
 * certificates) and its data-source answers, plus the stack's defaults for the tests.
 */
import { type CloudMocks, type Recorded, type Run, SESSION, type StackSettings, isSecretInput, runPulumiProgram, runStack } from '../support/pulumi-harness';

export const PROJECT = 'acme-idp';
export const REGION = 'europe-west1';
export const DOMAIN = 'scim.example.com';
export const ZONE_DNS_NAME = 'example.com.';
export const SUFFIX = 'q7w2e9';
export const ACCESS_TOKEN = 'ya29.deployer-access-token';
export const LB_IP = '34.117.20.30';
export const PSC_IP = '10.8.0.7';
export const IMAGE_DIGEST = 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
/** A Cloud SQL PSC DNS name as the API reports it (trailing dot). */
export const DB_DNS_NAME = '1a2b3c4d5e6f.a1b2c3d4e5f6.europe-west1.sql.goog.';
export const DB_HOST = DB_DNS_NAME.slice(0, -1);
export const SERVER_CA = [
  '-----BEGIN CERTIFICATE-----\nSUBORDINATE\n-----END CERTIFICATE-----',
  '-----BEGIN CERTIFICATE-----\nROOT\n-----END CERTIFICATE-----',
];
/** The CA Google will rotate to: listed by sql.getCaCerts (listServerCas), not by the instance's serverCaCerts. */
export const UPCOMING_CA = '-----BEGIN CERTIFICATE-----\nUPCOMING\n-----END CERTIFICATE-----';
/** What the bridge must trust: every CA getCaCerts lists, current and upcoming. */
export const CA_BUNDLE = `${[...SERVER_CA, UPCOMING_CA].join('\n')}\n`;
export const GOOGLE_KEY =
  '{"type":"service_account","client_email":"sync@acme-idp.iam.gserviceaccount.com","private_key":"-----BEGIN PRIVATE KEY-----\\nMII\\n-----END PRIVATE KEY-----\\n"}';
export const BASE_NAME = `scim-bridge-${SUFFIX}`;
export const SA_EMAIL = `${BASE_NAME}@${PROJECT}.iam.gserviceaccount.com`;
export const BOOT_SA_EMAIL = `${BASE_NAME}-boot@${PROJECT}.iam.gserviceaccount.com`;

export const T = {
  service: 'gcp:cloudrunv2/service:Service',
  job: 'gcp:cloudrunv2/job:Job',
  serviceIam: 'gcp:cloudrunv2/serviceIamMember:ServiceIamMember',
  account: 'gcp:serviceaccount/account:Account',
  secret: 'gcp:secretmanager/secret:Secret',
  secretVersion: 'gcp:secretmanager/secretVersion:SecretVersion',
  secretIam: 'gcp:secretmanager/secretIamMember:SecretIamMember',
  projectIam: 'gcp:projects/iAMMember:IAMMember',
  api: 'gcp:projects/service:Service',
  sqlInstance: 'gcp:sql/databaseInstance:DatabaseInstance',
  sqlDatabase: 'gcp:sql/database:Database',
  sqlUser: 'gcp:sql/user:User',
  network: 'gcp:compute/network:Network',
  subnetwork: 'gcp:compute/subnetwork:Subnetwork',
  internalAddress: 'gcp:compute/address:Address',
  forwardingRule: 'gcp:compute/forwardingRule:ForwardingRule',
  managedZone: 'gcp:dns/managedZone:ManagedZone',
  neg: 'gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup',
  backend: 'gcp:compute/backendService:BackendService',
  urlMap: 'gcp:compute/uRLMap:URLMap',
  cert: 'gcp:compute/managedSslCertificate:ManagedSslCertificate',
  sslPolicy: 'gcp:compute/sSLPolicy:SSLPolicy',
  httpsProxy: 'gcp:compute/targetHttpsProxy:TargetHttpsProxy',
  httpProxy: 'gcp:compute/targetHttpProxy:TargetHttpProxy',
  address: 'gcp:compute/globalAddress:GlobalAddress',
  globalRule: 'gcp:compute/globalForwardingRule:GlobalForwardingRule',
  recordSet: 'gcp:dns/recordSet:RecordSet',
  domainMapping: 'gcp:cloudrun/domainMapping:DomainMapping',
  repository: 'gcp:artifactregistry/repository:Repository',
  image: 'docker-build:index:Image',
  randomString: 'random:index/randomString:RandomString',
  randomPassword: 'random:index/randomPassword:RandomPassword',
} as const;

export const gcpMocks: CloudMocks = {
  cloud: 'gcp',
  providerConfig: { 'gcp:project': PROJECT, 'gcp:region': REGION },
  computed(type, name, v) {
    switch (type) {
      case T.randomString:
        return { id: name, outputs: { result: SUFFIX } };
      case T.randomPassword:
        // Distinct per password (by name), so a test can tell the administrator's from the app's; the same on every run,
        // as a generated password kept in state is.
        return { id: name, outputs: { result: `generated-${name}` } };
      case T.account: {
        const email = `${v.accountId}@${v.project}.iam.gserviceaccount.com`;
        return { id: `projects/${v.project}/serviceAccounts/${email}`, outputs: { email, member: `serviceAccount:${email}` } };
      }
      case T.secret:
        return { id: `projects/${v.project}/secrets/${v.secretId}`, outputs: { name: `projects/123456789/secrets/${v.secretId}` } };
      case T.secretVersion:
        // Like the API: the data is not echoed back in the computed outputs.
        return { id: `${v.secret}/versions/1`, outputs: { version: '1', name: `${v.secret}/versions/1` } };
      case T.sqlInstance:
        return {
          id: v.name,
          outputs: {
            connectionName: `${v.project}:${v.region}:${v.name}`,
            dnsName: DB_DNS_NAME,
            dnsNames: [{ connectionType: 'PRIVATE_SERVICE_CONNECT', dnsScope: 'INSTANCE', name: DB_DNS_NAME }],
            pscServiceAttachmentLink: `projects/tenant-x/regions/${v.region}/serviceAttachments/a-${v.name}`,
            serverCaCerts: SERVER_CA.map((cert) => ({ cert })),
          },
        };
      case T.internalAddress:
        return { id: `projects/${v.project}/regions/${v.region}/addresses/${v.name}`, outputs: { address: PSC_IP } };
      case T.managedZone:
        return { id: `projects/${v.project}/managedZones/${v.name}`, outputs: {} };
      case T.network:
        return { id: `projects/${v.project}/global/networks/${v.name}`, outputs: {} };
      case T.subnetwork:
        return { id: `projects/${v.project}/regions/${v.region}/subnetworks/${v.name}`, outputs: {} };
      case T.service:
        return { id: `projects/${v.project}/locations/${v.location}/services/${v.name}`, outputs: { uri: `https://${v.name}-abc123-ew.a.run.app` } };
      case T.job:
        return { id: `projects/${v.project}/locations/${v.location}/jobs/${v.name}`, outputs: {} };
      case T.repository:
        return {
          id: `projects/${v.project}/locations/${v.location}/repositories/${v.repositoryId}`,
          outputs: { registryUri: `${v.location}-docker.pkg.dev/${v.project}/${v.repositoryId}` },
        };
      case T.address:
        return { id: `global-address/${name}`, outputs: { address: LB_IP } };
      case T.domainMapping:
        return {
          id: `locations/${v.location}/namespaces/${v.project}/domainmappings/${v.name}`,
          outputs: { statuses: [{ resourceRecords: [{ name: 'scim', type: 'CNAME', rrdata: 'ghs.googlehosted.com.' }] }] },
        };
      case T.image:
        return { id: name, outputs: { ref: `${v.tags[0]}@${IMAGE_DIGEST}`, digest: IMAGE_DIGEST } };
      default:
        return { id: `${type.split(':').pop()}/${name}`, outputs: {} };
    }
  },
  answer(token, inputs) {
    switch (token) {
      case 'gcp:organizations/getClientConfig:getClientConfig':
        return { accessToken: ACCESS_TOKEN, project: PROJECT, region: REGION, zone: '', id: 'client', defaultLabels: {} };
      case 'gcp:sql/getCaCerts:getCaCerts':
        return {
          project: inputs.project,
          instance: inputs.instance,
          activeVersion: 'v1',
          id: inputs.instance,
          certs: [...SERVER_CA, UPCOMING_CA].map((cert) => ({ cert })),
        };
      case 'gcp:dns/getManagedZone:getManagedZone':
        return {
          name: inputs.name,
          dnsName: ZONE_DNS_NAME,
          id: `projects/${inputs.project}/managedZones/${inputs.name}`,
          nameServers: [],
          visibility: 'public',
        };
      default:
        throw new Error(`unexpected invoke ${token}`);
    }
  },
};

/** Defaults every test starts from: the load balancer front door, a session secret, no zone. */
export const BASE: Record<string, string> = { domain: DOMAIN, scimSession: SESSION };

/** The GCP stack program (stacks/pulumi/gcp.ts deploy()), as `pulumi up -s gcp` runs it. */
export function runGcpStack(settings: StackSettings): Promise<Run> {
  return runPulumiProgram(gcpMocks, settings, () => require('../../stacks/pulumi/gcp').deploy());
}

/** The whole program through stacks/pulumi/index.ts. */
export function runGcpProgram(settings: StackSettings): Promise<Run> {
  return runStack(gcpMocks, settings);
}

/** ScimBridgeGcp used directly, with the given args. */
export function runComponent(args: Record<string, unknown>): Promise<Run> {
  return runPulumiProgram(gcpMocks, { config: {}, secretKeys: [] }, () => {
    const { ScimBridgeGcp } = require('../../constructs/gcp');
    const bridge = new ScimBridgeGcp('bridge', { project: PROJECT, region: REGION, domain: DOMAIN, image: 'example/scim-bridge:1', ...args });
    return { scimBaseUrl: bridge.scimBaseUrl, nextSteps: bridge.nextSteps, dnsRecords: bridge.dnsRecords };
  });
}

export const container = (r: Recorded) => (r.type === T.job ? r.inputs.template.template.containers[0] : r.inputs.template.containers[0]);

/** A container's environment as name → value (or `{secret, version}` for a secret reference). */
export function envOf(r: Recorded): Record<string, any> {
  return Object.fromEntries(
    container(r).envs.map((e: any) => [
      e.name,
      e.valueSource ? { secret: e.valueSource.secretKeyRef.secret, version: e.valueSource.secretKeyRef.version } : e.value,
    ]),
  );
}

/** Every place a string occurs in a resource's raw inputs, and whether it arrived there as a secret. */
export function occurrences(value: unknown, needle: string, secret = false): boolean[] {
  if (isSecretInput(value)) return occurrences((value as any).value, needle, true);
  if (typeof value === 'string') return value.includes(needle) ? [secret] : [];
  if (Array.isArray(value)) return value.flatMap((v) => occurrences(v, needle, secret));
  if (value && typeof value === 'object') return Object.values(value).flatMap((v) => occurrences(v, needle, secret));
  return [];
}
