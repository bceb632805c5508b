/**
 * Where the running bridge gets its scimsession, and how it follows a rotation without a restart:
 * a file (SCIM_SESSION_FILE, e.g. a secret mounted as a volume) is re-read as soon as its directory changes
 * (a watcher on the directory, because secret mounts swap a symlink rather than write the file) and every 2 s
 * in case the watcher misses it; an AWS Secrets Manager secret (SCIM_SESSION_AWS_SECRET_ARN) is re-read
 * periodically; SCIM_SESSION (the contents, from a platform secret) is fixed for the life of the process.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { BRIDGE_ENV } from '../../../contract';
import type { Scope } from '../feed/types';
import { type ScimSession, SessionError, parseSession, tokensByScope, verifyToken } from './scimsession';

export interface SessionSource {
  /** Human description for logs: never the contents. */
  readonly description: string;
  load(): Promise<string>;
  /** How often to look for a new version, in ms; 0 never. */
  readonly pollMs: number;
  /** Start serving (unhealthy) when the first load fails, and keep polling: for secrets a deploy fills in later. */
  readonly tolerateInvalidAtStart?: boolean;
  /** Calls `changed` whenever the source may have changed (sooner than the next poll); returns a stop function. */
  watch?(changed: () => void): () => void;
}

/** Change notices arrive in bursts (a write is several events, a mount swap three): one reload after the burst. */
const WATCH_SETTLE_MS = 25;

export function fileSource(path: string, pollMs = 2000): SessionSource {
  return {
    description: `file ${path}`,
    pollMs,
    watch(changed) {
      let watcher: FSWatcher | undefined;
      let timer: NodeJS.Timeout | undefined;
      const name = basename(path);
      try {
        // The directory, not the file: Kubernetes-style secret mounts replace `..data`, an editor renames over the
        // file; a watcher on the file itself would go on watching the old inode. Polling stays as the fallback.
        watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
          if (file !== null && file !== name && !String(file).startsWith('..')) return;
          clearTimeout(timer);
          timer = setTimeout(changed, WATCH_SETTLE_MS);
          timer.unref();
        });
        watcher.on('error', () => watcher?.close()); // e.g. the directory went away: polling carries on
      } catch {
        watcher = undefined; // no inotify here (some network file systems): polling carries on
      }
      return () => {
        clearTimeout(timer);
        watcher?.close();
      };
    },
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
  if (inline?.trim()) return inlineSource(inline);
  if (file) return fileSource(file);
  return undefined;
}

export interface SessionEvents {
  onReload?(verifierCount: number): void;
  onReloadError?(error: Error): void;
}

/** The first look again for a scimsession that is not there yet. */
const FIRST_RETRY_MS = 10_000;

const digestOf = (text: string) => createHash('sha256').update(text).digest('base64');

/**
 * Holds the current scimsession and verifies tokens against it; follows its source's changes. Emits `reload`
 * (with the number of tokens) when a new scimsession is in use, and `reloadError` (with a SessionError that never
 * holds the contents) when the source changed to something unusable: the last good scimsession stays in use.
 * The same bad contents are reported once, not at every poll.
 */
export class SessionHolder extends EventEmitter<{ reload: [verifierCount: number]; reloadError: [error: Error]; gaveUp: [waitedMs: number] }> {
  private session?: ScimSession;
  private lastText?: string;
  private lastBadDigest?: string;
  /** Digests of tokens that passed, with their scope. */
  private readonly accepted = new Map<string, Scope>();
  private timer?: NodeJS.Timeout;
  private unwatch?: () => void;
  private checking?: Promise<void>;
  private again = false;

  constructor(
    readonly source: SessionSource,
    events: SessionEvents = {},
  ) {
    super();
    if (events.onReload) this.on('reload', events.onReload);
    if (events.onReloadError) this.on('reloadError', events.onReloadError);
  }

  /** Loads the session once; throws SessionError (safe to print) when it is missing or malformed. */
  async start(): Promise<void> {
    await this.reload();
    this.follow(this.source.pollMs);
  }

  /**
   * Like start(), but a failed first load leaves the holder unloaded (health 503) and looking again, soon at first
   * (10 s, doubling up to the source's own interval), so a secret filled in by a later step is picked up. After
   * `giveUpAfterMs` without a usable scimsession it emits `gaveUp` once and stops looking: a task that waits forever
   * on a placeholder hides a broken deployment. 0 waits forever.
   */
  async startPolling(giveUpAfterMs = 0): Promise<void> {
    try {
      await this.reload();
    } catch (error) {
      this.report(error as Error);
    }
    if (this.session) {
      this.follow(this.source.pollMs);
      return;
    }
    const started = Date.now();
    this.unwatch = this.source.watch?.(() => void this.check());
    const wait = (delayMs: number) => {
      this.timer = setTimeout(async () => {
        await this.check();
        if (this.session) {
          this.unwatch?.();
          this.follow(this.source.pollMs);
          return;
        }
        const waited = Date.now() - started;
        if (giveUpAfterMs > 0 && waited >= giveUpAfterMs) {
          this.stop();
          this.emit('gaveUp', waited);
          return;
        }
        wait(Math.min(delayMs * 2, this.source.pollMs || FIRST_RETRY_MS, giveUpAfterMs > 0 ? Math.max(1, giveUpAfterMs - waited) : Infinity));
      }, delayMs);
      this.timer.unref();
    };
    wait(Math.min(FIRST_RETRY_MS, this.source.pollMs || FIRST_RETRY_MS, giveUpAfterMs || Infinity));
  }

  private follow(pollMs: number): void {
    if (pollMs > 0) {
      this.timer = setInterval(() => void this.check(), pollMs);
      this.timer.unref();
    }
    this.unwatch = this.source.watch?.(() => void this.check());
  }

  /** Re-reads the source now (a watcher or the timer said it may have changed); one check at a time, none lost. */
  check(): Promise<void> {
    if (this.checking) {
      this.again = true;
      return this.checking;
    }
    this.checking = (async () => {
      do {
        this.again = false;
        try {
          if (await this.reload()) this.emit('reload', this.session!.verifiers.length);
        } catch (error) {
          // Keep serving with the last good session; a half-written file or a blip in the secret store is not an outage.
          this.report(error as Error);
        }
      } while (this.again);
    })().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private lastReported?: string;

  private report(error: Error): void {
    const reported = error instanceof SessionError ? error : new SessionError(`the scimsession could not be read (${error.name})`);
    // A source that keeps failing the same way (a file still missing) is reported once while a good session serves.
    if (this.session && reported.message === this.lastReported) return;
    this.lastReported = reported.message;
    this.emit('reloadError', reported);
  }

  /** Re-reads the source; returns whether the session changed. Throws when it changed to something unusable. */
  async reload(): Promise<boolean> {
    const text = await this.source.load();
    if (text === this.lastText && this.session) return false;
    let session: ScimSession;
    try {
      session = parseSession(text);
    } catch (error) {
      const digest = digestOf(text);
      if (digest === this.lastBadDigest && this.session) return false; // reported already
      this.lastBadDigest = digest;
      throw error;
    }
    this.session = session;
    this.lastBadDigest = undefined;
    this.lastReported = undefined;
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

  /** Tokens accepted per scope (the status page and /health show them; never a token). */
  get tokensByScope(): Record<Scope, number> {
    return this.session ? tokensByScope(this.session) : { provision: 0, read: 0, operate: 0 };
  }

  /** The scope of a valid token; undefined when the token is not valid (or no scimsession is loaded). */
  verify(token: string): Scope | undefined {
    if (this.session === undefined) return undefined;
    // Identity providers send the same token on every request: remember the digests of tokens that passed,
    // so the keyed check runs once per token and session version. A SHA-256 digest is the key, so the map
    // lookup's timing tells nothing about the token's characters.
    const digest = createHash('sha256').update(token).digest('base64');
    const known = this.accepted.get(digest);
    if (known !== undefined) return known;
    const scope = verifyToken(this.session, token);
    if (scope === undefined) return undefined;
    if (this.accepted.size >= 16) this.accepted.clear();
    this.accepted.set(digest, scope);
    return scope;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer); // clears an interval too
    this.unwatch?.();
  }
}
