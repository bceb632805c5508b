/**
 * What every cloud's managed PostgreSQL must give the bridge: its own least-privilege role (made by
 * `scim-bridge db bootstrap` from an administrator's connection, before the service starts), verified TLS, and a
 * connection budget that fits the server's `max_connections`.
 */
import { BRIDGE_DEFAULTS, BRIDGE_ENV, BRIDGE_SIZING } from '../../contract';

/** The one-off step each cloud runs before the service: `scim-bridge db bootstrap` (the image's entry point). */
export const BOOTSTRAP_COMMAND = ['db', 'bootstrap'] as const;

/** The environment the bootstrap step reads: the admin URL (admin credentials) and the app URL (its password). */
export const BOOTSTRAP_ENV = {
  adminUrl: BRIDGE_ENV.databaseAdminUrl,
  appUrl: BRIDGE_ENV.databaseUrl,
} as const;

/** The app's role and database names on every cloud. */
export const DATABASE_NAMES = {
  database: BRIDGE_DEFAULTS.databaseName,
  user: BRIDGE_DEFAULTS.databaseUser,
} as const;

/** Verified TLS on every cloud: the certificate must chain to the given CA and name the host. */
export const DATABASE_SSLMODE = 'verify-full';

export interface ConnectionBudget {
  /** Connections the bridge may open at the worst moment: every replica of a deploy's old and new set at once. */
  readonly peak: number;
  /** What the server allows the app, after the connections it keeps for itself and for administrators. */
  readonly available: number;
  readonly fits: boolean;
}

/**
 * The bridge's worst case is `maxReplicas × pool` twice over (a rolling deploy runs old and new replicas together),
 * plus one for the bootstrap step; it must fit in `max_connections` less the server's reserved connections.
 */
export function connectionBudget(
  maxReplicas: number,
  maxConnections: number,
  reserved: number,
  poolSize: number = BRIDGE_SIZING.databasePoolSize,
): ConnectionBudget {
  const peak = maxReplicas * poolSize * 2 + 1;
  const available = maxConnections - reserved;
  return { peak, available, fits: peak <= available };
}

/**
 * libpq's `sslrootcert=system` (PostgreSQL 16+): verify the server against the platform's public roots. For services
 * whose server certificates chain to public CAs (Azure Database for PostgreSQL, Cloud SQL's public endpoint).
 */
export const PUBLIC_CA_ROOTS = 'system';

export interface PostgresUrlParts {
  readonly host: string;
  /** @default 5432 */
  readonly port?: number;
  readonly database: string;
  readonly user: string;
  /** Leave out for the app's URL: the platform injects PGPASSWORD from its secret store. */
  readonly password?: string;
  /** A CA file path in the image, or PUBLIC_CA_ROOTS. @default none: the CA comes as SCIM_DATABASE_CA_CERT */
  readonly sslrootcert?: string;
}

/** A `postgres://` URL with verified TLS (`sslmode=verify-full`), in the form every cloud gives the bridge. */
export function postgresUrl(p: PostgresUrlParts): string {
  const auth = p.password === undefined ? encodeURIComponent(p.user) : `${encodeURIComponent(p.user)}:${encodeURIComponent(p.password)}`;
  const query = new URLSearchParams(p.sslrootcert === undefined ? { sslmode: DATABASE_SSLMODE } : { sslmode: DATABASE_SSLMODE, sslrootcert: p.sslrootcert });
  return `postgres://${auth}@${p.host}:${p.port ?? 5432}/${encodeURIComponent(p.database)}?${query.toString().replace(/%2F/g, '/')}`;
}
