/** The authenticated JSON the status page reads: GET /api/status and GET /api/events. */
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { EndpointStatus } from '../feed/endpoint-status';
import type { BridgeMetrics, SyncStatus } from '../ops/metrics';
import { badRequest } from '../scim/errors';
import type { SessionHolder } from '../session/source';
import { ROUTE_SCOPES } from './plugins/bearer-auth';
import { type EventOutcome, type Store, StoreUnavailable, type StoreUnavailableReason } from '../store/types';

export const STATUS_API_PATHS = { status: '/api/status', events: '/api/events' } as const;

const OUTCOMES: readonly EventOutcome[] = ['success', 'refused', 'failed'];
export const DEFAULT_EVENT_PAGE = 25;
export const MAX_EVENT_PAGE = 200;

export type StoreCheck = { status: 'ok' | 'timeout' | StoreUnavailableReason; latencyMs: number };

/** Pings the store with a bound, for /health and the status page. */
export async function checkStore(store: Store, timeoutMs = 2000): Promise<StoreCheck> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const status = await Promise.race([
    store.ping().then(
      () => 'ok' as const,
      (error) => (error instanceof StoreUnavailable ? error.reason : ('unreachable' as const)),
    ),
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, 'timeout');
    }),
  ]);
  clearTimeout(timer);
  return { status, latencyMs: Math.round((performance.now() - started) * 10) / 10 };
}

interface StatusApiOptions {
  readonly store: Store;
  readonly session: SessionHolder;
  readonly metrics: BridgeMetrics;
  readonly version: string;
  readonly startedAt: Date;
  readonly eventRetentionDays: number;
  readonly limits: () => Record<string, number>;
  /** A directory sync's last run and state; `sync` is null in the JSON when none is configured. */
  readonly syncStatus?: () => SyncStatus | undefined;
  /** The webhook endpoints' statuses; `webhooks` is null in the JSON when the feed is off. */
  readonly webhookStatus?: () => Promise<EndpointStatus[]>;
}

interface EventsQuery {
  Querystring: { limit?: string; before?: string; outcome?: string; q?: string };
}

function positiveInteger(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw badRequest('invalidValue', `"${name}" must be a positive whole number (got "${raw}")`);
  return value;
}

export function registerStatusApi(app: FastifyInstance, options: StatusApiOptions): void {
  // A bearer token of any scope, checked at onRequest (plugins/bearer-auth.ts).
  const guarded = { config: { bearer: ROUTE_SCOPES.any } };

  app.get(STATUS_API_PATHS.status, guarded, async () => {
    const store = await checkStore(options.store);
    // The counts need the store; when it is down the page still shows that, rather than failing.
    const counts = store.status === 'ok' ? await options.store.counts().catch(() => null) : null;
    const healthy = options.session.loaded && store.status === 'ok';
    return {
      status: healthy ? 'ok' : 'unavailable',
      version: options.version,
      startedAt: options.startedAt.toISOString(),
      uptimeSeconds: Math.round((Date.now() - options.startedAt.getTime()) / 1000),
      replica: hostname(),
      store: { kind: options.store.kind, ...store },
      session: { loaded: options.session.loaded, tokens: options.session.verifierCount, scopes: options.session.tokensByScope },
      counts,
      clients: options.metrics.clients.list(),
      rates: options.metrics.rates.summary(),
      eventRetentionDays: options.eventRetentionDays,
      limits: options.limits(),
      sync: options.syncStatus?.() ?? null,
      webhooks: store.status === 'ok' && options.webhookStatus ? await options.webhookStatus().catch(() => null) : null,
    };
  });

  app.get<EventsQuery>(STATUS_API_PATHS.events, guarded, async (request) => {
    const { outcome, q } = request.query;
    const limit = Math.min(MAX_EVENT_PAGE, positiveInteger('limit', request.query.limit) ?? DEFAULT_EVENT_PAGE);
    const before = positiveInteger('before', request.query.before);
    if (outcome !== undefined && outcome !== '' && !OUTCOMES.includes(outcome as EventOutcome)) {
      throw badRequest('invalidValue', `"outcome" must be one of ${OUTCOMES.join(', ')} (got "${outcome}")`);
    }
    const search = q?.trim().slice(0, 200) || undefined;
    // One more than asked tells whether an older page exists without counting the table.
    const rows = await options.store.listEvents({ limit: limit + 1, before, outcome: (outcome || undefined) as EventOutcome | undefined, search });
    const events = rows.slice(0, limit);
    return { events, next: rows.length > limit ? (events[events.length - 1].id ?? null) : null };
  });
}
