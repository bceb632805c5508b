/**
 * Delivers the change log to every active webhook endpoint: at least once, in position order per resource, with
 * each endpoint's progress in the store so any replica carries on where another stopped.
 *
 * One replica delivers for an endpoint at a time, under the lease `webhook:<id>`. A pass reads the changes after
 * the endpoint's cursor, takes them in position order into a window of at most `window` changes to distinct
 * resources (the window ends before a second change to a resource already in it), sends the window's requests
 * `concurrency` at a time, and moves the cursor to just before the first change that failed (or past the whole
 * window). Order per resource holds because a resource appears at most once per window, and a window starts only
 * after every earlier position has been acknowledged: a later change to a resource is never sent before an earlier
 * one was acknowledged, and a change sent again (after a failure in its window, or a replica's death before it saved
 * its progress) is never older than one the receiver already has. At least once; `webhook-id` is the idempotency key.
 *
 * A failed head change is retried on retry.ts's schedule; once its window is over it is dead-lettered: the
 * endpoint stops (every later change waits behind it, so no resource's order is ever broken) until `redrive`.
 *
 * No request starts later than (lease − request timeout) / 2 after the lease was last renewed, so when a replica
 * dies mid-delivery its requests have ended before another can take over; progress is written only while the
 * writer still holds the lease (one statement checks both). A pass costs two statements (read the changes, save the
 * progress) and a lease renewal every few seconds, whatever the window holds.
 */
import http from 'node:http';
import https from 'node:https';
import { hostname } from 'node:os';
import type { ProvisioningEvent } from '../store/types';
import type { EndpointProgress, WebhookEndpoint, WebhookEndpointStore } from './endpoint-record';
import { type EndpointStatus, endpointStatuses } from './endpoint-status';
import { type ActiveEndpoint, type DeclaredEndpoint, activeEndpoints, wants } from './endpoints';
import { DEFAULT_RETRY, type RetrySchedule, parseRetryAfter, retryDelayMs, windowOver } from './retry';
import { type PostResult, type TargetPolicy, postWebhook } from './safe-target';
import { secretKey, signDelivery } from './signing';
import { type Change, type ChangeLog, DEFAULT_DIRECTORY, changeDocument, changeId } from './types';

/** What the delivery needs of the store. */
export interface DeliveryStore extends ChangeLog, WebhookEndpointStore {
  tryAcquireLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<boolean>;
  recordEvent(event: ProvisioningEvent): Promise<void>;
  /** Called after this process committed changes (other replicas' are found by polling). */
  onChangesCommitted?(listener: () => void): () => void;
}

export interface DeliveryLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** What the metrics count (ops/metrics.ts registers them). */
export interface DeliveryCounters {
  delivered(endpoint: string, count: number): void;
  failed(endpoint: string, count: number): void;
  deadLettered(endpoint: string): void;
}

export interface DeliveryOptions {
  readonly store: DeliveryStore;
  readonly declared: readonly DeclaredEndpoint[];
  readonly policy: TargetPolicy;
  readonly log: DeliveryLog;
  readonly counters?: DeliveryCounters;
  readonly version?: string;
  readonly retry?: RetrySchedule;
  /** Longest wait between two looks at the log and the endpoints (other replicas' changes, retries due). @default 1000 */
  readonly pollMs?: number;
  /** The endpoint lease's lifetime; must be well above `timeoutMs`. @default 20000 */
  readonly leaseMs?: number;
  /** One request, from start to the last byte read. @default 10000 */
  readonly timeoutMs?: number;
  /** @default 5000 */
  readonly connectTimeoutMs?: number;
  /** Requests in flight per endpoint (each to a distinct resource). @default 8 */
  readonly concurrency?: number;
  /** Changes to distinct resources taken into one window (acknowledged wholly before the next begins). @default 64 */
  readonly window?: number;
  /** How long a commit waits for others before a pass looks at them together. @default 20 */
  readonly coalesceMs?: number;
  /** Changes read per pass (filtered-out ones included). @default the window's size */
  readonly batch?: number;
  readonly now?: () => number;
}

interface Lease {
  readonly name: string;
  readonly holder: string;
  /** When the last renewal was asked for (the lease holds until at least then + its lifetime). */
  renewedAt: number;
  renewing?: Promise<boolean>;
}

interface SendResult {
  readonly ok: boolean;
  readonly result: PostResult;
  readonly reason?: string;
  /** Not sent: the lease could not be renewed. */
  readonly unsent?: boolean;
}

/** The lease under which one replica delivers for an endpoint. */
export const endpointLease = (id: string) => `webhook:${id}`;

/** A resource's key in a window. */
const resourceKey = (change: Change) => `${change.resource.type}/${change.resource.id}`;

export class WebhookDelivery {
  readonly holder = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  private readonly running = new Map<string, Promise<void>>();
  private readonly agents = new Map<string, http.Agent>();
  private readonly keys = new Map<string, Buffer>();
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private again = false;
  private coalescing?: NodeJS.Timeout;
  private declared = false;
  private stopped = false;
  private unsubscribe?: () => void;
  private readonly retry: RetrySchedule;
  private readonly leaseMs: number;
  private readonly timeoutMs: number;
  private readonly pollMs: number;

  constructor(private readonly options: DeliveryOptions) {
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.leaseMs = Math.max(options.leaseMs ?? 20_000, this.timeoutMs * 2);
    this.pollMs = options.pollMs ?? 1_000;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Delivers until stop(); the first step creates the declared endpoints' rows (retried while the store is away). */
  async start(): Promise<void> {
    this.unsubscribe = this.options.store.onChangesCommitted?.(() => this.soon());
    this.wake();
  }

  /**
   * A commit in this process: look within `coalesceMs`, so a burst of commits is one pass (and one progress write)
   * rather than one each; on SQLite every progress write is a synchronous commit on the event loop SCIM runs on.
   */
  private soon(): void {
    if (this.stopped || this.coalescing) return;
    this.coalescing = setTimeout(() => {
      this.coalescing = undefined;
      this.wake();
    }, this.options.coalesceMs ?? 20);
  }

  /** The declared endpoints' rows: new ones start at the log's head; known ones keep their progress. */
  private async declare(): Promise<void> {
    const head = await this.options.store.headPosition(DEFAULT_DIRECTORY);
    for (const d of this.options.declared) {
      await this.options.store.upsertDeclaredWebhookEndpoint({
        id: d.name,
        name: d.name,
        url: d.url,
        events: d.events,
        directory: DEFAULT_DIRECTORY,
        position: head,
        created: new Date().toISOString(),
      });
    }
    this.declared = true;
  }

  /** Looks at the endpoints now (a commit in this process, a test). */
  wake(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.ticking = this.tick()
      .catch((error) => this.options.log.warn({ reason: (error as Error).message }, 'webhook delivery step failed; retrying shortly'))
      .finally(() => {
        this.ticking = undefined;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          this.wake();
        } else {
          this.timer = setTimeout(() => this.wake(), this.pollMs);
          this.timer.unref();
        }
      });
  }

  private async tick(): Promise<void> {
    if (!this.declared) await this.declare();
    const rows = await this.options.store.listWebhookEndpoints();
    const now = this.now();
    for (const active of activeEndpoints(rows, this.options.declared)) {
      const e = active.endpoint;
      if (this.running.has(e.id) || e.paused || e.deadPosition !== undefined || e.nextAttemptAt > now) continue;
      const work = this.serve(active)
        .catch((error) => {
          this.options.log.warn({ endpoint: e.name, reason: (error as Error).message }, 'webhook delivery pass failed; retrying shortly');
          return false;
        })
        .then((worked) => {
          this.running.delete(e.id);
          // Whatever came in while this endpoint was busy is looked at now rather than at the next poll (from the
          // event loop's next turn: SQLite answers synchronously, and a loop of promises alone would starve I/O).
          if (worked && !this.stopped) setImmediate(() => this.wake());
        });
      this.running.set(e.id, work);
    }
  }

  /** Delivers to one endpoint while there is something due, holding its lease; true when it held the lease. */
  private async serve(active: ActiveEndpoint): Promise<boolean> {
    const { store } = this.options;
    const id = active.endpoint.id;
    // Nothing waiting: no lease taken (a write per endpoint per poll would be waste).
    if ((await store.readChanges(active.endpoint.position, 1, active.endpoint.directory)).length === 0) return false;
    const lease: Lease = { name: endpointLease(id), holder: this.holder, renewedAt: this.now() };
    if (!(await store.tryAcquireLease(lease.name, lease.holder, this.leaseMs))) return false;
    try {
      // The row is read again only when a save did not take (an operator's pause, replay or redrive; a lost lease).
      let endpoint = await store.getWebhookEndpoint(id);
      for (let passes = 0; passes < 10_000 && !this.stopped; passes++) {
        if (!endpoint || endpoint.paused || endpoint.deadPosition !== undefined || endpoint.nextAttemptAt > this.now()) return true;
        const outcome = await this.pass(endpoint, active.secret, lease);
        if (outcome === 'done') return true;
        endpoint = outcome === 'reread' ? await store.getWebhookEndpoint(id) : outcome;
      }
      return true;
    } finally {
      await store.releaseLease(lease.name, lease.holder).catch(() => undefined);
    }
  }

  /**
   * Renews the lease when the last renewal is old enough that a request started now could outlive it: every request
   * starts at most (lease − timeout) / 2 after a renewal, so it ends while the lease still holds.
   */
  private async leaseHeld(lease: Lease): Promise<boolean> {
    if (this.now() - lease.renewedAt <= (this.leaseMs - this.timeoutMs) / 2) return true;
    lease.renewing ??= (async () => {
      const at = this.now();
      const held = await this.options.store.tryAcquireLease(lease.name, lease.holder, this.leaseMs).catch(() => false);
      if (held) lease.renewedAt = at;
      lease.renewing = undefined;
      return held;
    })();
    return lease.renewing;
  }

  /**
   * One window. Returns the endpoint as saved when it moved on and more may be waiting, `done` when it stops
   * (caught up, or a failure saved for a later retry), `reread` when the save did not take.
   */
  private async pass(endpoint: WebhookEndpoint, secret: string, lease: Lease): Promise<WebhookEndpoint | 'done' | 'reread'> {
    const { store } = this.options;
    // As many as a window can hold: reading more would parse states that the next pass reads again.
    const changes = await store.readChanges(endpoint.position, this.options.batch ?? this.options.window ?? 64, endpoint.directory);
    if (changes.length === 0) return 'done';
    // The window: changes in position order, each to a resource not yet in it; unwanted ones are passed over.
    const window: Change[] = [];
    const inWindow = new Set<string>();
    let end = endpoint.position;
    for (const change of changes) {
      if (wants(endpoint.events, change.type)) {
        const key = resourceKey(change);
        if (inWindow.has(key) || window.length >= (this.options.window ?? 64)) break;
        inWindow.add(key);
        window.push(change);
      }
      end = change.position;
    }
    // At most `concurrency` requests at once; none starts unless the lease will outlast it.
    const results: SendResult[] = new Array(window.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(window.length, this.options.concurrency ?? 8) }, async () => {
        while (next < window.length) {
          const i = next++;
          results[i] = (await this.leaseHeld(lease))
            ? await this.send(endpoint, secret, window[i])
            : { ok: false, result: { ms: 0 }, reason: "the endpoint's lease passed to another replica", unsent: true };
        }
      }),
    );
    const now = this.now();
    const failed = results.findIndex((r) => !r.ok);
    const delivered = results.filter((r) => r.ok).length;
    const failures = results.filter((r) => !r.ok && !r.unsent).length;
    let progress: EndpointProgress;
    if (failed < 0) {
      const last = results[results.length - 1];
      progress = {
        position: end,
        attempts: 0,
        nextAttemptAt: 0,
        ...(last ? { lastAttemptAt: now, lastStatus: last.result.status, lastDeliveredAt: now } : {}),
        deliveredIncrement: delivered,
        failuresIncrement: 0,
      };
    } else {
      const head = window[failed];
      // The cursor stops just before the failed change (after every change before it, wanted or not).
      const position = changes.filter((c) => c.position < head.position).reduce((max, c) => Math.max(max, c.position), endpoint.position);
      const sameHead = position === endpoint.position && endpoint.attempts > 0;
      const attempts = sameHead ? endpoint.attempts + 1 : 1;
      const failingSince = sameHead ? (endpoint.failingSince ?? now) : now;
      const result = results[failed].result;
      const dead = windowOver(failingSince, now, this.retry);
      const retryAfter = result.status === 429 || result.status === 503 ? parseRetryAfter(result.headers?.['retry-after'], now) : undefined;
      progress = {
        position,
        attempts,
        failingSince,
        nextAttemptAt: dead ? 0 : now + retryDelayMs(attempts, this.retry, retryAfter),
        lastAttemptAt: now,
        lastStatus: result.status,
        lastError: results[failed].reason,
        ...(delivered > 0 ? { lastDeliveredAt: now } : {}),
        deliveredIncrement: delivered,
        failuresIncrement: failures,
        ...(dead ? { deadPosition: head.position, deadAt: now } : {}),
      };
      this.options.counters?.failed(endpoint.name, failures);
      if (dead) {
        this.options.counters?.deadLettered(endpoint.name);
        this.options.log.error(
          { endpoint: endpoint.name, position: head.position, attempts, reason: results[failed].reason },
          'webhook change dead-lettered: the endpoint waits for "scim-bridge webhooks redrive"',
        );
        await store
          .recordEvent({
            at: new Date(now).toISOString(),
            actor: 'webhooks',
            action: 'webhook.dead-letter',
            outcome: 'failed',
            status: result.status ?? 0,
            ...(head.resource.type !== 'Hold' ? { resourceType: head.resource.type } : {}),
            resourceId: head.resource.id,
            resourceName: endpoint.name,
            detail: `change ${head.position} to ${endpoint.name} failed for ${Math.round((now - failingSince) / 60_000)} min (${attempts} attempts): ${results[failed].reason}`,
          })
          .catch(() => undefined);
      } else {
        this.options.log.warn(
          {
            endpoint: endpoint.name,
            position: head.position,
            attempts,
            status: result.status,
            reason: results[failed].reason,
            retryInMs: progress.nextAttemptAt - now,
          },
          'webhook delivery failed; retrying later',
        );
      }
    }
    if (delivered > 0) this.options.counters?.delivered(endpoint.name, delivered);
    const saved = await store.saveWebhookProgress(endpoint.id, endpoint.revision, progress, { name: lease.name, holder: lease.holder });
    // Not saved: an operator replayed, paused or redrove meanwhile (the next pass reads that), or the lease was lost.
    if (!saved) return 'reread';
    if (failed >= 0) return 'done';
    return {
      ...endpoint,
      position: progress.position,
      attempts: 0,
      failingSince: undefined,
      nextAttemptAt: 0,
      delivered: endpoint.delivered + delivered,
      ...(progress.lastAttemptAt ? { lastAttemptAt: progress.lastAttemptAt, lastStatus: progress.lastStatus, lastDeliveredAt: progress.lastDeliveredAt } : {}),
      lastError: undefined,
    };
  }

  private async send(endpoint: WebhookEndpoint, secret: string, change: Change): Promise<SendResult> {
    let key = this.keys.get(secret);
    if (!key) {
      key = secretKey(secret);
      this.keys.set(secret, key);
    }
    const body = JSON.stringify(changeDocument(change));
    const headers = {
      ...signDelivery(key, changeId(change), body, new Date(this.now())),
      'user-agent': `scim-bridge/${this.options.version ?? 'dev'} (webhooks)`,
    };
    const url = new URL(endpoint.url);
    const result = await postWebhook(url, headers, body, this.options.policy, {
      timeoutMs: this.timeoutMs,
      connectTimeoutMs: this.options.connectTimeoutMs,
      agent: this.agent(endpoint, url),
    });
    if (result.status !== undefined && result.status >= 200 && result.status < 300) return { ok: true, result };
    const reason =
      result.error ??
      (result.status! >= 300 && result.status! < 400
        ? `answered ${result.status} (redirects are not followed)`
        : `answered ${result.status}${result.body ? `: ${result.body.slice(0, 200)}` : ''}`);
    return { ok: false, result, reason };
  }

  /** One keep-alive agent per endpoint and URL origin. */
  private agent(endpoint: WebhookEndpoint, url: URL): http.Agent {
    const key = `${endpoint.id} ${url.origin}`;
    let agent = this.agents.get(key);
    if (!agent) {
      const settings = { keepAlive: true, maxSockets: this.options.concurrency ?? 8, timeout: this.timeoutMs };
      agent = url.protocol === 'http:' ? new http.Agent(settings) : new https.Agent(settings);
      this.agents.set(key, agent);
    }
    return agent;
  }

  /** Every endpoint's status as the store has it (any replica shows the same). */
  async statuses(): Promise<EndpointStatus[]> {
    const rows = await this.options.store.listWebhookEndpoints();
    const active = new Set(activeEndpoints(rows, this.options.declared).map((a) => a.endpoint.id));
    return endpointStatuses(this.options.store, rows, (e) => active.has(e.id), this.now());
  }

  /** Stops looking, lets the passes in flight finish (their requests are bounded), and gives the leases up. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.coalescing);
    this.unsubscribe?.();
    await this.ticking;
    await Promise.all([...this.running.values()]);
    for (const agent of this.agents.values()) agent.destroy();
  }
}
