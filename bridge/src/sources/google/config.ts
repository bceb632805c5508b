/**
 * Google Workspace settings, read from the contract's SCIM_GOOGLE_* names. Every mistake is one line naming the
 * variable; a credential's contents never appear in a message.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BRIDGE_ENV } from '../../../../contract';
import { ConfigError } from '../../config';

export const GOOGLE_DEFAULTS = {
  syncIntervalSeconds: 600,
  directoryUrl: 'https://admin.googleapis.com',
  /** Google's token endpoint, for a key file without `token_uri`. */
  tokenUri: 'https://oauth2.googleapis.com/token',
} as const;

/** Read-only scopes, the least the sync needs; the administrator delegates exactly these to the service account. */
export const GOOGLE_SCOPES = [
  'https://www.googleapis.com/auth/admin.directory.user.readonly',
  'https://www.googleapis.com/auth/admin.directory.group.readonly',
] as const;

export interface ServiceAccountKey {
  readonly clientEmail: string;
  /** PEM (PKCS#8), as Google issues it. */
  readonly privateKey: string;
  readonly privateKeyId?: string;
  readonly tokenUri: string;
}

export interface GoogleConfig {
  readonly credentials: ServiceAccountKey;
  /** Where the credentials came from, for logs ("file /run/secrets/google.json", "SCIM_GOOGLE_CREDENTIALS"). */
  readonly credentialsSource: string;
  readonly adminEmail: string;
  /** Lower-cased group e-mails. */
  readonly groups: readonly string[];
  readonly syncIntervalSeconds: number;
  /** Without a trailing slash. */
  readonly directoryUrl: string;
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i;

/** https, or http to this machine only (tests, a local proxy): a token must never cross a network in clear text. */
function checkUrl(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL (got "${raw}")`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.test(url.hostname))) {
    throw new ConfigError(`${name} must be an https:// URL (got "${url.origin}")`);
  }
  return url.toString().replace(/\/+$/, '');
}

/** Raw JSON, or base64 of it (secret stores often hold binary-safe text). */
function decodeKey(text: string): unknown {
  const trimmed = text.trim();
  const json = trimmed.startsWith('{') ? trimmed : Buffer.from(trimmed, 'base64').toString('utf8');
  return JSON.parse(json);
}

export function parseServiceAccountKey(text: string, source: string): ServiceAccountKey {
  let key: Record<string, unknown>;
  try {
    key = decodeKey(text) as Record<string, unknown>;
  } catch {
    throw new ConfigError(`${source} is not a service-account key (expected its JSON, or the JSON in base64)`);
  }
  if (!key || typeof key !== 'object') throw new ConfigError(`${source} is not a service-account key (expected a JSON object)`);
  if (key.type !== 'service_account') {
    throw new ConfigError(
      `${source} is not a service-account key ("type" is ${JSON.stringify(key.type ?? null)}, expected "service_account"); create a key for the service account in the Google Cloud console`,
    );
  }
  if (typeof key.client_email !== 'string' || !EMAIL.test(key.client_email)) throw new ConfigError(`${source} has no "client_email"`);
  if (typeof key.private_key !== 'string') throw new ConfigError(`${source} has no "private_key"`);
  try {
    createPrivateKey(key.private_key);
  } catch {
    throw new ConfigError(`${source} has a "private_key" that is not a PEM private key`);
  }
  const tokenUri = key.token_uri === undefined ? GOOGLE_DEFAULTS.tokenUri : checkUrl(`"token_uri" in ${source}`, String(key.token_uri));
  return {
    clientEmail: key.client_email,
    privateKey: key.private_key,
    privateKeyId: typeof key.private_key_id === 'string' ? key.private_key_id : undefined,
    tokenUri,
  };
}

/** Whether any Google setting is present (then all the required ones must be). */
export function googleConfigured(env: NodeJS.ProcessEnv): boolean {
  return [BRIDGE_ENV.googleCredentialsFile, BRIDGE_ENV.googleCredentials, BRIDGE_ENV.googleAdminEmail, BRIDGE_ENV.googleGroups].some(
    (name) => (env[name] ?? '').trim() !== '',
  );
}

/** The connector's settings, or undefined when Google Workspace is not configured at all. */
export function readGoogleConfig(env: NodeJS.ProcessEnv): GoogleConfig | undefined {
  if (!googleConfigured(env)) return undefined;
  const file = env[BRIDGE_ENV.googleCredentialsFile]?.trim();
  const inline = env[BRIDGE_ENV.googleCredentials]?.trim();
  if (file && inline) throw new ConfigError(`set either ${BRIDGE_ENV.googleCredentialsFile} or ${BRIDGE_ENV.googleCredentials}, not both`);
  if (!file && !inline) {
    throw new ConfigError(
      `${BRIDGE_ENV.googleCredentialsFile} (a service-account key file) or ${BRIDGE_ENV.googleCredentials} (its contents) is required for Google Workspace`,
    );
  }
  let credentials: ServiceAccountKey;
  let credentialsSource: string;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new ConfigError(
        `${BRIDGE_ENV.googleCredentialsFile} (${file}) cannot be read: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable')}`,
      );
    }
    credentialsSource = `${BRIDGE_ENV.googleCredentialsFile} (${file})`;
    credentials = parseServiceAccountKey(text, credentialsSource);
  } else {
    credentialsSource = BRIDGE_ENV.googleCredentials;
    credentials = parseServiceAccountKey(inline!, credentialsSource);
  }

  const adminEmail = (env[BRIDGE_ENV.googleAdminEmail] ?? '').trim();
  if (!adminEmail) throw new ConfigError(`${BRIDGE_ENV.googleAdminEmail} is required: the Workspace administrator the service account acts for`);
  if (!EMAIL.test(adminEmail)) throw new ConfigError(`${BRIDGE_ENV.googleAdminEmail} must be an email address (got "${adminEmail}")`);

  const groups = [
    ...new Set(
      (env[BRIDGE_ENV.googleGroups] ?? '')
        .split(/[\s,]+/)
        .map((g) => g.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
  if (!groups.length) throw new ConfigError(`${BRIDGE_ENV.googleGroups} is required: the comma-separated e-mails of the groups whose members are provisioned`);
  const badGroup = groups.find((g) => !EMAIL.test(g));
  if (badGroup) throw new ConfigError(`${BRIDGE_ENV.googleGroups} must list group e-mail addresses ("${badGroup}" is not one)`);

  const rawInterval = (env[BRIDGE_ENV.googleSyncIntervalSeconds] ?? '').trim();
  const syncIntervalSeconds = rawInterval === '' ? GOOGLE_DEFAULTS.syncIntervalSeconds : Number(rawInterval);
  if (!Number.isInteger(syncIntervalSeconds) || syncIntervalSeconds < 1 || syncIntervalSeconds > 86_400) {
    throw new ConfigError(`${BRIDGE_ENV.googleSyncIntervalSeconds} must be a whole number of seconds from 1 to 86400 (got "${rawInterval}")`);
  }
  const directoryUrl = checkUrl(BRIDGE_ENV.googleDirectoryUrl, (env[BRIDGE_ENV.googleDirectoryUrl] ?? '').trim() || GOOGLE_DEFAULTS.directoryUrl);
  return { credentials, credentialsSource, adminEmail, groups, syncIntervalSeconds, directoryUrl };
}
