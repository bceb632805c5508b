/**
 * Where the running bridge gets its scimsession, and how it follows a rotation without a restart:
 * a file (SCIM_SESSION_FILE, e.g. a secret mounted as a volume) is re-read when it changes; an AWS Secrets
 * Manager secret (SCIM_SESSION_AWS_SECRET_ARN) is re-read periodically; SCIM_SESSION (the contents, from a
 * platform secret) is fixed for the life of the process.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BRIDGE_ENV } from '../../../contract';
import { type ScimSession, SessionError, parseSession, verifyToken } from './scimsession';

export interface SessionSource {
  /** Human description for logs: never the contents. */
  readonly description: string;
  load(): Promise<string>;
  /** How often to look for a new version, in ms; 0 never. */
  readonly pollMs: number;
  /** Start serving (unhealthy) when the first load fails, and keep polling: for secrets a deploy fills in later. */
  readonly tolerateInvalidAtStart?: boolean;
}

export function fileSource(path: string, pollMs = 2000): SessionSource {
  return {
    description: `file ${path}`,
    pollMs,
    load: async () => {
      try {
        return await readFile(path, 'utf8');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new SessionError(code === 'ENOENT' ? `scimsession file ${path} does not exist` : `cannot read scimsession file ${path} (${code})`);
      }
    },
  };
}

export function inlineSource(contents: string): SessionSource {
  return { description: `${BRIDGE_ENV.session} environment variable`, pollMs: 0, load: async () => contents };
}

export function awsSecretSource(secretArn: string, pollMs = 60_000): SessionSource {
  return {
    description: `AWS Secrets Manager secret ${secretArn}`,
    pollMs,
    tolerateInvalidAtStart: true,
    load: async () => {
      const { readSessionFromAwsSecret } = await import('./aws-secrets');
      return (await readSessionFromAwsSecret({ secretId: secretArn })).session;
    },
  };
}

/** Picks the source from the environment; undefined when none is configured. */
export function sessionSourceFromEnv(env: NodeJS.ProcessEnv): SessionSource | undefined {
  const inline = env[BRIDGE_ENV.session];
  const file = env[BRIDGE_ENV.sessionFile];
  const arn = env[BRIDGE_ENV.sessionAwsSecretArn];
  // The secret ARN wins over SCIM_SESSION: ECS injects both, and only the ARN follows a rotation.
  if (arn) return awsSecretSource(arn);
  if (inline && inline.trim()) return inlineSource(inline);
  if (file) return fileSource(file);
  return undefined;
}

export interface SessionEvents {
  onReload?(verifierCount: number): void;
  onReloadError?(error: Error): void;
}

/** Holds the current scimsession and verifies tokens against it; follows its source's changes. */
export class SessionHolder {
  private session?: ScimSession;
  private lastText?: string;
  private readonly accepted = new Set<string>();
  private timer?: NodeJS.Timeout;

  constructor(
    readonly source: SessionSource,
    private readonly events: SessionEvents = {},
  ) {}

  /** Loads the session once; throws SessionError (safe to print) when it is missing or malformed. */
  async start(): Promise<void> {
    await this.reload();
    if (this.source.pollMs > 0) {
      this.timer = setInterval(() => void this.poll(), this.source.pollMs);
      this.timer.unref();
    }
  }

  /** Like start(), but a failed first load leaves the holder unloaded (health 503) and polling. */
  async startPolling(): Promise<void> {
    try {
      await this.reload();
    } catch (error) {
      this.events.onReloadError?.(error as Error);
    }
    this.timer = setInterval(() => void this.poll(), this.session ? this.source.pollMs : Math.min(this.source.pollMs, 10_000));
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    try {
      const changed = await this.reload();
      if (changed) this.events.onReload?.(this.session!.verifiers.length);
    } catch (error) {
      // Keep serving with the last good session; a half-written file or a blip in the secret store is not an outage.
      this.events.onReloadError?.(error as Error);
    }
  }

  /** Re-reads the source; returns whether the session changed. */
  async reload(): Promise<boolean> {
    const text = await this.source.load();
    if (text === this.lastText && this.session) return false;
    this.session = parseSession(text);
    this.accepted.clear(); // a rotation may have retired a token
    this.lastText = text;
    return true;
  }

  get loaded(): boolean {
    return this.session !== undefined;
  }

  get verifierCount(): number {
    return this.session?.verifiers.length ?? 0;
  }

  verify(token: string): boolean {
    if (this.session === undefined) return false;
    // Identity providers send the same token on every request: remember the digests of tokens that passed,
    // so the keyed check runs once per token and session version. A SHA-256 digest is the key, so the map
    // lookup's timing tells nothing about the token's characters.
    const digest = createHash('sha256').update(token).digest('base64');
    if (this.accepted.has(digest)) return true;
    if (!verifyToken(this.session, token)) return false;
    if (this.accepted.size >= 16) this.accepted.clear();
    this.accepted.add(digest);
    return true;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
