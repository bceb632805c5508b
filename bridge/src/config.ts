/** The bridge's configuration, read from the environment names of the deployment contract. */
import { BRIDGE_DEFAULTS, BRIDGE_ENV, BRIDGE_PORT } from '../../contract';
import { parseAllowedDomains } from './directory/rules';

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
  return {
    port,
    host: env[BRIDGE_ENV.host] || BRIDGE_DEFAULTS.host,
    databaseUrl,
    allowedDomains: parseAllowedDomains(env[BRIDGE_ENV.allowedDomains]),
    logLevel,
  };
}
