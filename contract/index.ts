/**
 * The deployment contract: the one place that says how the bridge is run.
 *
 * The bridge reads its configuration through these names, and every cloud (CDK and Pulumi alike)
 * wires its runtime, probes, secrets and sizes from here, so no cloud repeats a port, a path or an
 * environment name. Pure data: importing it pulls in no cloud SDK and no bridge code.
 */

/** Port the bridge listens on inside its container. */
export const BRIDGE_PORT = 3002;

/** Where the SCIM API lives; identity providers may also be given the bare host (aliases below). */
export const SCIM_BASE_PATH = '/scim/v2';
export const SCIM_PATH_ALIASES = ['/scim', ''] as const;

/** HTTP paths every platform probes or links to. */
export const BRIDGE_PATHS = {
  /** Shallow liveness: the process answers. No auth, no store access. Use it where a failing check replaces the replica. */
  liveness: '/ping',
  /** Readiness: session loaded and the store answers (200), otherwise 503. Use it for startup/readiness checks. */
  readiness: '/health',
  /** Status page (sign in with the bearer token). */
  status: '/',
  /** Prometheus metrics. */
  metrics: '/metrics',
  /** The change feed's pull API (a read token): `GET /api/changes?after=CURSOR&limit=N&wait=SECONDS`. */
  changes: '/api/changes',
  /** A consistent snapshot of the directory and the position to follow the feed from (a read token). */
  snapshot: '/api/snapshot',
  /** The deprovisioning guard's holds (an operator token). */
  holds: '/api/holds',
} as const;

/** Environment variables the bridge reads. */
export const BRIDGE_ENV = {
  port: 'PORT',
  host: 'HOST',
  /** The scimsession document itself (raw JSON or base64). Inject from a secret store, never as a plain value. */
  session: 'SCIM_SESSION',
  /** A path to the scimsession file (e.g. a secret mounted as a volume); watched for changes (token rotation). */
  sessionFile: 'SCIM_SESSION_FILE',
  /** ARN of an AWS Secrets Manager secret holding the scimsession; read directly and re-read for rotation. */
  sessionAwsSecretArn: 'SCIM_SESSION_AWS_SECRET_ARN',
  /**
   * Seconds a bridge whose secret holds no scimsession yet keeps waiting for one (serving /ping, 503 elsewhere)
   * before it exits with one line saying what to put where (default 1800; 0 waits forever).
   */
  sessionWaitSeconds: 'SCIM_SESSION_WAIT_SECONDS',
  /** `sqlite:<path>` or `postgres://…`. */
  databaseUrl: 'SCIM_DATABASE_URL',
  /** Comma-separated list of email domains that may be provisioned; empty allows any. */
  allowedDomains: 'SCIM_ALLOWED_DOMAINS',
  /** `debug`, `info` (default), `warn`, `error`. */
  logLevel: 'LOG_LEVEL',
  /** Days provisioning events are kept (default 90); 0 keeps them forever. */
  eventRetentionDays: 'SCIM_EVENT_RETENTION_DAYS',
  /** `true` puts /metrics behind the bearer token (default false: scrapers usually sit inside the network). */
  metricsRequireToken: 'SCIM_METRICS_REQUIRE_TOKEN',
  /** Requests answered at once per replica (default 256); beyond it the bridge answers 429 with Retry-After. */
  maxConcurrentRequests: 'SCIM_MAX_CONCURRENT_REQUESTS',
  /** PostgreSQL connections per replica (default BRIDGE_SIZING.databasePoolSize). */
  databasePoolSize: 'SCIM_DATABASE_POOL_SIZE',
  /**
   * `false` sends every statement unnamed (planned on each call) instead of as a named prepared statement per
   * connection; only for a transaction-mode pooler that cannot keep prepared statements (PgBouncer < 1.21, or
   * `max_prepared_statements = 0`). Default true.
   */
  databasePreparedStatements: 'SCIM_DATABASE_PREPARED_STATEMENTS',
  /**
   * An administrator's `postgres://` URL, read only by `scim-bridge db bootstrap` (a one-off step before the
   * service starts) to create the app's least-privilege role; never given to the service itself.
   */
  databaseAdminUrl: 'SCIM_DATABASE_ADMIN_URL',
  /**
   * The administrator's password when `SCIM_DATABASE_ADMIN_URL` holds none (platforms that inject a secret's
   * value as a variable of its own); read only by `scim-bridge db bootstrap`. The app's password likewise comes
   * from `SCIM_DATABASE_URL` or `PGPASSWORD`.
   */
  databaseAdminPassword: 'SCIM_DATABASE_ADMIN_PASSWORD',
  /** The PEM CA certificate(s) that sign the database server's certificate, as contents (e.g. a platform's bind variable). */
  databaseCaCert: 'SCIM_DATABASE_CA_CERT',
  /**
   * Which proxies' `X-Forwarded-For` to believe: a number of hops in front of the bridge, or a comma-separated list
   * of CIDRs. Unset: none (the socket's address is the client's). Each cloud sets it to what stands in front.
   */
  trustProxy: 'SCIM_TRUST_PROXY',
  /** `email` (default, the product's rule: userName is the person's email address) or `any` (any non-empty string). */
  usernameFormat: 'SCIM_USERNAME_FORMAT',
  /** PEM certificate chain and key: the bridge serves HTTPS itself (a single VM); re-read when the files change. */
  tlsCertFile: 'SCIM_TLS_CERT_FILE',
  tlsKeyFile: 'SCIM_TLS_KEY_FILE',
  /** Google Workspace: a service-account key file, or its contents (raw JSON or base64) for secret stores. */
  googleCredentialsFile: 'SCIM_GOOGLE_CREDENTIALS_FILE',
  googleCredentials: 'SCIM_GOOGLE_CREDENTIALS',
  /** The Workspace administrator the service account acts for (domain-wide delegation). */
  googleAdminEmail: 'SCIM_GOOGLE_ADMIN_EMAIL',
  /** Comma-separated group e-mails whose members are provisioned (nested groups flattened). */
  googleGroups: 'SCIM_GOOGLE_GROUPS',
  /** Seconds between syncs (default 600). */
  googleSyncIntervalSeconds: 'SCIM_GOOGLE_SYNC_INTERVAL_SECONDS',
  /** The Directory API root (default https://admin.googleapis.com); tests point it at a fake. */
  googleDirectoryUrl: 'SCIM_GOOGLE_DIRECTORY_URL',
  /**
   * The change feed's declared webhook endpoints (GitOps), as JSON: `[{"name":"app","url":"https://…","events":["user.*"]}]`.
   * Not secret; each endpoint's signing secret comes from SCIM_WEBHOOK_SECRETS.
   */
  webhooks: 'SCIM_WEBHOOKS',
  /** The declared endpoints' signing secrets, as JSON `{"app":"whsec_…"}`: inject from the cloud's secret store. */
  webhookSecrets: 'SCIM_WEBHOOK_SECRETS',
  /** `true` accepts plain `http://` webhook endpoints on loopback (one machine, tests). */
  webhooksAllowLoopback: 'SCIM_WEBHOOKS_ALLOW_LOOPBACK',
  /** Comma-separated CIDRs of private addresses webhooks may reach (private, link-local and metadata addresses are refused otherwise). */
  webhooksAllowPrivate: 'SCIM_WEBHOOKS_ALLOW_PRIVATE',
  /** Days changes are kept in the change feed (default 30); never pruned past an active endpoint's position. */
  changeRetentionDays: 'SCIM_CHANGE_RETENTION_DAYS',
  /** The deprovisioning guard: people deprovisioned within the window that start a hold (default 50; 0 off). */
  deprovisionHoldCount: 'SCIM_DEPROVISION_HOLD_COUNT',
  /** The deprovisioning guard: percent of active users deprovisioned within the window that start a hold (default 10; 0 off). */
  deprovisionHoldPercent: 'SCIM_DEPROVISION_HOLD_PERCENT',
  /** The deprovisioning guard's window in seconds (default 900). */
  deprovisionHoldWindowSeconds: 'SCIM_DEPROVISION_HOLD_WINDOW_SECONDS',
  /** Seconds a deprovisioning change waits before delivery, so a burst is held whole (default 60; 0 none). */
  deprovisionSettleSeconds: 'SCIM_DEPROVISION_SETTLE_SECONDS',
  /** Operator-declared SCIM schema extensions (RFC 7643 §7 schema definitions as JSON), as contents or a path. */
  schemaExtensions: 'SCIM_SCHEMA_EXTENSIONS',
  schemaExtensionsFile: 'SCIM_SCHEMA_EXTENSIONS_FILE',
  /** What to do with an extension that is not declared: `refuse` (400 naming the URN, the default) or `keep`. */
  undeclaredExtensions: 'SCIM_UNDECLARED_EXTENSIONS',
  /** Standard libpq variables: fill in whatever `SCIM_DATABASE_URL` leaves out. */
  pgHost: 'PGHOST',
  pgPort: 'PGPORT',
  pgUser: 'PGUSER',
  pgPassword: 'PGPASSWORD',
  pgDatabase: 'PGDATABASE',
  pgSslMode: 'PGSSLMODE',
  /** A path to the PEM CA certificate(s) for `verify-ca`/`verify-full`. */
  pgSslRootCert: 'PGSSLROOTCERT',
} as const;

/** Environment variables of `scim-bridge doctor` (a pipeline sets them from its secrets, keeping the token out of argv). */
export const DOCTOR_ENV = {
  /** The bearer token doctor checks with (instead of --token or --token-file). */
  token: 'SCIM_DOCTOR_TOKEN',
} as const;

/** Defaults the bridge applies when a variable is unset. */
export const BRIDGE_DEFAULTS = {
  host: '0.0.0.0',
  databaseUrl: 'sqlite:./data/bridge.db',
  /** The name of the PostgreSQL database the clouds create for the bridge. */
  databaseName: 'scim_bridge',
  /** The PostgreSQL login role the clouds create for the bridge. */
  databaseUser: 'scim_bridge',
} as const;

/** The container image: what the Dockerfile in bridge/ builds. */
export const BRIDGE_IMAGE = {
  /** The Dockerfile, relative to the repository root (the build context). */
  dockerfile: 'bridge/Dockerfile',
  /**
   * What the build context holds, as Docker ignore patterns (the same list as .dockerignore): the bridge and this
   * contract only, so a change to docs, stacks, tests or the kit's dependencies neither changes the context nor the image.
   */
  contextPatterns: ['*', '!bridge/', '!contract/', 'bridge/node_modules', 'bridge/**/*.md'],
  /**
   * The image's ENTRYPOINT: its CMD is the subcommand (`serve`), so a platform that runs the image with other arguments
   * (a one-off `db bootstrap`) or with a whole command line (App Platform's run_command) starts from this.
   */
  entrypoint: ['node', '/app/scim-bridge.cjs'],
  /** Numeric uid/gid of the unprivileged user the image runs as. */
  uid: 10001,
  gid: 10001,
  /** The only writable path the bridge needs when its store is PostgreSQL: none. With SQLite: the data dir. */
  dataDir: '/app/data',
  /** Where platforms that mount secrets as files put the scimsession (set SCIM_SESSION_FILE to it). */
  sessionMountDir: '/var/run/scim-bridge',
  /**
   * CA bundles the image carries for `sslmode=verify-full` (libpq's `sslrootcert=<path>`). Amazon RDS certificates
   * chain to AWS's own roots; Azure's and Cloud SQL's public endpoints chain to public roots (`sslrootcert=system`);
   * DigitalOcean gives each cluster its own CA (SCIM_DATABASE_CA_CERT).
   */
  caBundles: { awsRds: '/app/certs/aws-rds-ca-bundle.pem' },
  sessionFileName: 'scimsession',
  /** Beside the scimsession where platforms mount secrets as files: the Google service-account key (SCIM_GOOGLE_CREDENTIALS_FILE). */
  googleCredentialsFileName: 'google-credentials.json',
} as const;

/**
 * Default sizes, shared by every cloud. Small on purpose: one replica answers thousands of SCIM requests per
 * second and holds well under 150 MB; two keep a deploy or a zone outage from interrupting provisioning.
 */
export const BRIDGE_SIZING = {
  cpu: 0.5,
  memoryMiB: 1024,
  minReplicas: 2,
  maxReplicas: 6,
  /** Scale out above this average CPU utilisation (percent). */
  targetCpuPercent: 60,
  /** Scale out above this many concurrent requests per replica (Cloud Run concurrency, Container Apps HTTP rule). */
  targetConcurrentRequests: 50,
  /** Scale out above this many requests per replica per minute (ALB RequestCountPerTarget). */
  targetRequestsPerMinute: 3000,
  /** Seconds a replica gets to finish in-flight requests after SIGTERM. */
  shutdownGraceSeconds: 25,
  /** Database connections per replica: small, so max replicas × pool stays well under a small instance's limit. */
  databasePoolSize: 5,
} as const;

/** Health-check timing every platform uses. */
export const BRIDGE_PROBES = {
  intervalSeconds: 15,
  timeoutSeconds: 5,
  healthyThreshold: 2,
  unhealthyThreshold: 3,
  /** The bridge starts in well under a second; allow for a cold image pull and first migration. */
  startupGraceSeconds: 60,
} as const;

/** The SCIM base URL to give an identity provider for a given public host name. */
export function scimBaseUrl(host: string): string {
  return `https://${host.replace(/\/+$/, '')}${SCIM_BASE_PATH}`;
}
