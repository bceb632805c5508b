/** The bridge's configuration, read from the environment names of the deployment contract. */
import { BRIDGE_DEFAULTS, BRIDGE_ENV, BRIDGE_PORT } from '../../contract';
import { USERNAME_FORMATS, type UsernameFormat, parseAllowedDomains } from './directory/rules';
import { type TrustProxy, TrustProxyError, parseTrustProxy } from './trust-proxy';

/** A configuration mistake: printed as one line, exit code 1. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface BridgeConfig {
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string;
  readonly allowedDomains: readonly string[];
  readonly logLevel: string;
  /** Whose X-Forwarded-For to believe (SCIM_TRUST_PROXY); none by default. */
  readonly trustProxy: TrustProxy;
  /** What a userName is (SCIM_USERNAME_FORMAT): `email` (default) or `any`. */
  readonly usernameFormat: UsernameFormat;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export function readConfig(env: NodeJS.ProcessEnv): BridgeConfig {
  const rawPort = env[BRIDGE_ENV.port];
  const port = rawPort === undefined || rawPort === '' ? BRIDGE_PORT : Number(rawPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`${BRIDGE_ENV.port} must be a port number (got "${rawPort}")`);
  const logLevel = (env[BRIDGE_ENV.logLevel] || 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`${BRIDGE_ENV.logLevel} must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  const databaseUrl = env[BRIDGE_ENV.databaseUrl] || BRIDGE_DEFAULTS.databaseUrl;
  if (!/^(sqlite:|postgres(ql)?:\/\/)/i.test(databaseUrl)) {
    throw new ConfigError(`${BRIDGE_ENV.databaseUrl} must start with sqlite: or postgres:// (got "${databaseUrl.replace(/\/\/[^@/]*@/, '//…@')}")`);
  }
  let trustProxy: TrustProxy;
  try {
    trustProxy = parseTrustProxy(env[BRIDGE_ENV.trustProxy]);
  } catch (error) {
    if (!(error instanceof TrustProxyError)) throw error;
    throw new ConfigError(`${BRIDGE_ENV.trustProxy} must be ${error.message}`);
  }
  const usernameFormat = (env[BRIDGE_ENV.usernameFormat] || 'email').trim().toLowerCase() as UsernameFormat;
  if (!USERNAME_FORMATS.includes(usernameFormat)) {
    throw new ConfigError(`${BRIDGE_ENV.usernameFormat} must be one of ${USERNAME_FORMATS.join(', ')} (got "${env[BRIDGE_ENV.usernameFormat]}")`);
  }
  return {
    port,
    host: env[BRIDGE_ENV.host] || BRIDGE_DEFAULTS.host,
    databaseUrl,
    allowedDomains: parseAllowedDomains(env[BRIDGE_ENV.allowedDomains]),
    logLevel,
    trustProxy,
    usernameFormat,
  };
}
