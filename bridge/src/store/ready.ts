/**
 * A bridge may start before its database answers (a platform starts both at once; a database restarts during a
 * deploy). Instead of exiting, it serves: `/ping` answers, SCIM and `/health` answer 503 with Retry-After, and the
 * migration is retried in the background until the database comes up; then the store is ready, with no restart.
 *
 * A failure only an operator can fix (a certificate that does not verify, a missing privilege, a wrong password)
 * is not waited out: at start it is thrown as a ConfigError (one line, exit 1); later it goes to `onFatal`.
 */
import { ConfigError } from '../config';
import { type Store, StoreMisconfigured, StoreNotReady, StoreUnavailable } from './types';

export interface ReadyGateOptions {
  /** A line for the log (waiting, ready). */
  readonly log?: (level: 'info' | 'warn', message: string, fields?: Record<string, unknown>) => void;
  /** Called once when a background migration fails for good (misconfiguration): the bridge should exit. */
  readonly onFatal: (message: string) => void;
  /** First wait between attempts, doubled up to `maxDelayMs`. @default 250 */
  readonly initialDelayMs?: number;
  /** @default 5000 */
  readonly maxDelayMs?: number;
}

/** The one line an operator needs for an error that stops the bridge. */
export function operatorMessage(error: unknown): string {
  if (error instanceof StoreMisconfigured) return error.operatorMessage;
  return (error as Error)?.message ?? String(error);
}

export class ReadyGate {
  /** The store to serve with: every call fails fast with StoreNotReady until the migration has succeeded. */
  readonly store: Store;
  private ready = false;
  private stopped = false;
  private attempt: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private delay: number;
  private lastError: unknown;
  private lastLogged = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(
    private readonly inner: Store,
    private readonly options: ReadyGateOptions,
  ) {
    this.delay = options.initialDelayMs ?? 250;
    const notReady = () => Promise.reject(new StoreNotReady({ cause: this.lastError }));
    const passThrough = new Set<PropertyKey>(['kind', 'close', 'migrate', 'onChangesCommitted']);
    const wrapped = new Map<PropertyKey, unknown>();
    this.store = new Proxy(inner, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver);
        if (passThrough.has(property) || typeof value !== 'function') {
          if (property === 'close') return () => this.close();
          return typeof value === 'function' ? value.bind(target) : value;
        }
        let method = wrapped.get(property);
        if (!method) {
          const bound = (value as (...args: unknown[]) => unknown).bind(target);
          method = (...args: unknown[]) => {
            if (this.ready) return bound(...args);
            this.nudge();
            return notReady();
          };
          wrapped.set(property, method);
        }
        return method;
      },
    });
  }

  get isReady(): boolean {
    return this.ready;
  }

  /**
   * Migrates once. Resolves true when the store is ready, false when the database is not there yet (the gate
   * keeps trying in the background). Throws a ConfigError for what waiting cannot fix.
   */
  async start(): Promise<boolean> {
    try {
      await this.inner.migrate();
      this.markReady();
      return true;
    } catch (error) {
      if (!isTransient(error)) throw new ConfigError(operatorMessage(error));
      this.lastError = error;
      this.lastLogged = Date.now();
      this.options.log?.('warn', 'the store is not reachable yet; serving 503 and retrying', { reason: describe(error) });
      this.schedule();
      return false;
    }
  }

  /** Resolves once the store is ready (tests, and callers that must wait). */
  whenReady(): Promise<void> {
    return this.ready ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }

  private markReady(): void {
    this.ready = true;
    this.lastError = undefined;
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  private schedule(): void {
    if (this.stopped || this.ready || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tryNow();
    }, this.delay);
    this.timer.unref();
    this.delay = Math.min(this.delay * 2, this.options.maxDelayMs ?? 5000);
  }

  /** A request arrived while waiting: try again now rather than at the end of a long back-off. */
  private nudge(): void {
    if (this.ready || this.stopped || this.attempt || this.delay <= (this.options.initialDelayMs ?? 250) * 2) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.delay = this.options.initialDelayMs ?? 250;
    void this.tryNow();
  }

  private tryNow(): Promise<void> {
    this.attempt ??= (async () => {
      try {
        await this.inner.migrate();
        if (this.stopped) return;
        this.markReady();
        this.options.log?.('info', 'the store is reachable and migrated; serving');
      } catch (error) {
        this.lastError = error;
        if (this.stopped) return;
        if (!isTransient(error)) {
          this.stopped = true;
          this.options.onFatal(operatorMessage(error));
          return;
        }
        // Still waiting: say so once a minute, so a wrong host name does not wait in silence.
        if (Date.now() - this.lastLogged >= 60_000) {
          this.lastLogged = Date.now();
          this.options.log?.('warn', 'the store is still not reachable; serving 503 and retrying', { reason: describe(error) });
        }
        this.schedule();
      } finally {
        this.attempt = undefined;
      }
    })();
    return this.attempt;
  }

  private async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.attempt?.catch(() => undefined);
    await this.inner.close();
  }
}

/** Waiting helps: the database is down, restarting, slow or saturated; not a misconfiguration. */
function isTransient(error: unknown): boolean {
  return error instanceof StoreUnavailable && !(error instanceof StoreMisconfigured);
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { message?: string; code?: string } }).cause;
  return [cause?.code, cause?.message ?? (error as Error)?.message].filter(Boolean).join(': ');
}
