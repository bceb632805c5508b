/**
 * What the bridge measures about itself: Prometheus metrics on a registry of its own (so several bridges can
 * live in one process, as in tests), plus the small in-memory views the status page shows. Everything here
 * is per replica: a deployment with three replicas has three of each.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DeliveryCounters } from '../feed/delivery';
import type { EndpointStatus } from '../feed/endpoint-status';
import { type ProvisioningEvent, type Store, type StoreTx, StoreUnavailable } from '../store/types';

const PREFIX = 'scim_bridge_';

export class BridgeMetrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  readonly httpDuration: Histogram<'route'>;
  readonly storeDuration: Histogram<'operation'>;
  readonly events: Counter<'action' | 'outcome'>;
  readonly storeUnavailable: Counter<'reason'>;
  readonly rates = new RateWindow();
  readonly clients = new ClientTracker();

  constructor() {
    const registers = [this.registry];
    this.httpRequests = new Counter({
      name: `${PREFIX}http_requests_total`,
      help: 'HTTP requests answered, by route pattern, method and status code',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: `${PREFIX}http_request_duration_seconds`,
      help: 'Time to answer an HTTP request, by route pattern',
      labelNames: ['route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
    this.storeDuration = new Histogram({
      name: `${PREFIX}store_operation_duration_seconds`,
      help: 'Time spent in the store, by operation (a write request is one transaction)',
      labelNames: ['operation'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers,
    });
    this.events = new Counter({
      name: `${PREFIX}provisioning_events_total`,
      help: 'Provisioning events recorded, by action and outcome',
      labelNames: ['action', 'outcome'],
      registers,
    });
    this.storeUnavailable = new Counter({
      name: `${PREFIX}store_unavailable_total`,
      help: 'Store calls that failed because the store could not answer, by reason: busy (every database connection of this replica was in use), unreachable, timeout, full, not-ready (still waiting for the database at start), misconfigured',
      labelNames: ['reason'],
      registers,
    });
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
  }

  // Label children cached by a plain key: prom-client would otherwise sort and hash the labels on every call.
  private readonly requestChildren = new Map<string, { inc(): void }>();
  private readonly durationChildren = new Map<string, { observe(value: number): void }>();

  /** Called once per answered request; probes and scrapes stay out of the status page's rates. */
  observeRequest(route: string, method: string, status: number, ms: number, rated = true): void {
    const key = `${route} ${method} ${status}`;
    let counter = this.requestChildren.get(key);
    if (!counter) this.requestChildren.set(key, (counter = this.httpRequests.labels({ route, method, status })));
    counter.inc();
    let histogram = this.durationChildren.get(route);
    if (!histogram) this.durationChildren.set(route, (histogram = this.httpDuration.labels({ route })));
    histogram.observe(ms / 1000);
    if (rated) this.rates.add(status);
  }

  countEvent(event: Pick<ProvisioningEvent, 'action' | 'outcome'>): void {
    this.events.inc({ action: event.action, outcome: event.outcome });
  }
}

/** Requests and errors over the last five minutes, in ten-second buckets: cheap enough for every request. */
export class RateWindow {
  static readonly BUCKET_MS = 10_000;
  static readonly BUCKETS = 30;
  private readonly stamps = new Float64Array(RateWindow.BUCKETS);
  private readonly requests = new Uint32Array(RateWindow.BUCKETS);
  private readonly clientErrors = new Uint32Array(RateWindow.BUCKETS);
  private readonly serverErrors = new Uint32Array(RateWindow.BUCKETS);

  constructor(private readonly now: () => number = Date.now) {}

  add(status: number): void {
    const slot = Math.floor(this.now() / RateWindow.BUCKET_MS);
    const i = slot % RateWindow.BUCKETS;
    if (this.stamps[i] !== slot) {
      this.stamps[i] = slot;
      this.requests[i] = 0;
      this.clientErrors[i] = 0;
      this.serverErrors[i] = 0;
    }
    this.requests[i]++;
    if (status >= 500) this.serverErrors[i]++;
    else if (status >= 400) this.clientErrors[i]++;
  }

  summary(): { windowSeconds: number; requests: number; clientErrors: number; serverErrors: number; requestsPerMinute: number } {
    const current = Math.floor(this.now() / RateWindow.BUCKET_MS);
    let requests = 0;
    let clientErrors = 0;
    let serverErrors = 0;
    for (let i = 0; i < RateWindow.BUCKETS; i++) {
      if (current - this.stamps[i] >= RateWindow.BUCKETS) continue;
      requests += this.requests[i];
      clientErrors += this.clientErrors[i];
      serverErrors += this.serverErrors[i];
    }
    const windowSeconds = (RateWindow.BUCKETS * RateWindow.BUCKET_MS) / 1000;
    return { windowSeconds, requests, clientErrors, serverErrors, requestsPerMinute: Math.round((requests / windowSeconds) * 60 * 10) / 10 };
  }
}

export interface ClientSeen {
  readonly agent: string;
  readonly at: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly requests: number;
}

interface ClientEntry {
  at: number;
  method: string;
  path: string;
  status: number;
  requests: number;
}

/**
 * The last request of each identity provider, told apart by User-Agent. Only clients that once presented a
 * valid token get an entry (scanners with random agents cannot push the real identity provider out), and
 * there are at most a few dozen.
 */
export class ClientTracker {
  static readonly MAX_CLIENTS = 32;
  private readonly seen = new Map<string, ClientEntry>();

  record(agent: string, method: string, path: string, status: number, authenticated: boolean): void {
    const entry = this.seen.get(agent);
    if (entry) {
      // Updated in place: this runs on every request.
      entry.at = Date.now();
      entry.method = method;
      entry.path = path;
      entry.status = status;
      entry.requests++;
      return;
    }
    if (!authenticated) return;
    if (this.seen.size >= ClientTracker.MAX_CLIENTS) {
      let oldest: string | undefined;
      let oldestAt = Infinity;
      for (const [name, e] of this.seen) if (e.at < oldestAt) [oldest, oldestAt] = [name, e.at];
      this.seen.delete(oldest!);
    }
    this.seen.set(agent, { at: Date.now(), method, path, status, requests: 1 });
  }

  /** Most recent first. */
  list(): ClientSeen[] {
    return [...this.seen]
      .sort(([, a], [, b]) => b.at - a.at)
      .map(([agent, e]) => ({ agent, at: new Date(e.at).toISOString(), method: e.method, path: e.path, status: e.status, requests: e.requests }));
  }
}

/**
 * The store, timed: each call outside a transaction is one observation under its method name, and a whole
 * transaction is one under `transaction` (timing each statement inside would cost more than it tells).
 * Events count once their transaction commits.
 */
export function instrumentStore(store: Store, metrics: BridgeMetrics): Store {
  const children = new Map<string, { observe(value: number): void }>();
  const timed = <T>(operation: string, call: () => Promise<T>): Promise<T> => {
    let child = children.get(operation);
    if (!child) children.set(operation, (child = metrics.storeDuration.labels({ operation })));
    const histogram = child;
    const started = performance.now();
    const done = () => histogram.observe((performance.now() - started) / 1000);
    const result = call();
    result.then(done, (error) => {
      done();
      if (error instanceof StoreUnavailable) metrics.storeUnavailable.inc({ reason: error.reason });
    });
    return result;
  };
  const special: Partial<Store> = {
    migrate: () => store.migrate(),
    close: () => store.close(),
    onChangesCommitted: (listener) => store.onChangesCommitted(listener),
    transaction: (work) =>
      timed('transaction', async () => {
        const recorded: ProvisioningEvent[] = [];
        const result = await store.transaction((tx) => work(countingTx(tx, recorded)));
        for (const event of recorded) metrics.countEvent(event);
        return result;
      }),
    recordEvent: async (event) => {
      await timed('recordEvent', () => store.recordEvent(event));
      metrics.countEvent(event);
    },
  };
  // Every other method is one timed observation under its own name (wrapped once, not on every call).
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property in special) return special[property as keyof Store];
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      let method = wrapped.get(property);
      if (!method) wrapped.set(property, (method = (...args: unknown[]) => timed(String(property), () => value.apply(target, args))));
      return method;
    },
  });
}

/** The transaction handle with recordEvent noted; everything else goes straight through. */
function countingTx(tx: StoreTx, recorded: ProvisioningEvent[]): StoreTx {
  return new Proxy(tx, {
    get(target, property, receiver) {
      if (property === 'recordEvent') {
        return async (event: ProvisioningEvent) => {
          await target.recordEvent(event);
          recorded.push(event);
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * What a directory sync (Google Workspace) tells the status page and /metrics (bridge/src/sources registers its
 * gauges); shared by every replica through the store, so any replica shows the last run.
 */
export interface SyncStatus {
  readonly source: string;
  /** syncing or waiting on the replica holding the sync lease, standby on the others. */
  readonly state: 'syncing' | 'waiting' | 'standby' | 'stopped';
  readonly leader: boolean;
  readonly intervalSeconds: number;
  readonly lastRun: {
    readonly replica: string;
    readonly startedAt: string;
    readonly finishedAt: string;
    readonly durationMs: number;
    readonly outcome: 'success' | 'partial' | 'failed';
    readonly counts: Readonly<Record<string, number>>;
    readonly errorCount: number;
    readonly errors: readonly string[];
  } | null;
  readonly lastSuccessAt: string | null;
  readonly nextRunAt: string | null;
}

/**
 * The deprovisioning guard's holds waiting for an operator (`scim_bridge_feed_holds_active`): above 0 means people
 * were deprovisioned in the directory and the application has not heard of it. The AWS alarms watch it.
 */
export function registerHoldMetrics(registry: Registry, activeHolds: () => number): Gauge {
  return new Gauge({
    name: `${PREFIX}feed_holds_active`,
    help: 'Deprovisioning holds waiting for an operator to release or discard them (scim-bridge holds list)',
    registers: [registry],
    collect() {
      this.set(activeHolds());
    },
  });
}

/**
 * The webhooks' metrics: deliveries and dead letters counted by this replica; each endpoint's lag (positions and
 * seconds) and dead-letter state read from the store at scrape time, so every replica reports the same.
 */
export function registerWebhookMetrics(registry: Registry, statuses: () => Promise<EndpointStatus[]>): DeliveryCounters {
  const registers = [registry];
  const deliveries = new Counter({
    name: `${PREFIX}webhook_deliveries_total`,
    help: 'Webhook requests this replica made, by endpoint and outcome (delivered: a 2xx answer; failed: anything else)',
    labelNames: ['endpoint', 'outcome'],
    registers,
  });
  const deadLetters = new Counter({
    name: `${PREFIX}webhook_dead_letters_total`,
    help: 'Changes this replica dead-lettered after their retry window, by endpoint',
    labelNames: ['endpoint'],
    registers,
  });
  // One read of the store per scrape, shared by the three gauges.
  let snapshot: { at: number; value: Promise<EndpointStatus[]> } | undefined;
  const read = () => {
    if (!snapshot || Date.now() - snapshot.at > 1000) snapshot = { at: Date.now(), value: statuses().catch(() => []) };
    return snapshot.value;
  };
  const gauge = (name: string, help: string, value: (s: EndpointStatus) => number) =>
    new Gauge({
      name: `${PREFIX}${name}`,
      help,
      labelNames: ['endpoint'],
      registers,
      async collect() {
        this.reset();
        for (const s of await read()) this.set({ endpoint: s.name }, value(s));
      },
    });
  gauge('webhook_lag_positions', "Changes after the endpoint's cursor, not yet delivered", (s) => s.lagPositions);
  gauge('webhook_lag_seconds', 'Age of the oldest change not yet delivered to the endpoint (0 when caught up)', (s) => s.lagSeconds);
  gauge('webhook_dead_letter', '1 while the endpoint holds a dead-lettered change (it waits for scim-bridge webhooks redrive)', (s) => (s.deadLetter ? 1 : 0));
  return {
    delivered: (endpoint, count) => deliveries.inc({ endpoint, outcome: 'delivered' }, count),
    failed: (endpoint, count) => deliveries.inc({ endpoint, outcome: 'failed' }, count),
    deadLettered: (endpoint) => deadLetters.inc({ endpoint }),
  };
}
