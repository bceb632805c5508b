/**
 * What an operator sees of each webhook endpoint (status page, `scim-bridge webhooks list`, metrics): where it is,
 * how far behind, its last delivery, failures and dead letter. Read from the store, so every replica shows the same.
 */
import type { WebhookEndpoint } from './endpoint-record';
import type { ChangeLog } from './types';

export type EndpointState = 'delivering' | 'retrying' | 'paused' | 'dead-letter' | 'inactive';

export interface EndpointStatus {
  readonly name: string;
  readonly source: WebhookEndpoint['source'];
  /** The URL without its query (which may hold a receiver's own token). */
  readonly url: string;
  readonly events: readonly string[] | null;
  readonly state: EndpointState;
  readonly position: number;
  readonly head: number;
  /** Changes after the endpoint's cursor (before its filter). */
  readonly lagPositions: number;
  /** Age of the oldest change not yet delivered; 0 when caught up. */
  readonly lagSeconds: number;
  readonly lastDeliveredAt: string | null;
  readonly lastAttemptAt: string | null;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly attempts: number;
  readonly nextAttemptAt: string | null;
  readonly delivered: number;
  readonly failures: number;
  readonly deadLetter: { readonly position: number; readonly at: string } | null;
}

const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : null);

export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}${parsed.search ? '?…' : ''}`;
  } catch {
    return url;
  }
}

/** Each endpoint's status; `active(endpoint)` tells whether this replica has its secret (a declared one still declared). */
export async function endpointStatuses(
  log: Pick<ChangeLog, 'readChanges' | 'headPosition'>,
  rows: readonly WebhookEndpoint[],
  active: (endpoint: WebhookEndpoint) => boolean,
  now = Date.now(),
): Promise<EndpointStatus[]> {
  const heads = new Map<string, number>();
  const statuses: EndpointStatus[] = [];
  for (const e of rows) {
    if (!heads.has(e.directory)) heads.set(e.directory, await log.headPosition(e.directory));
    const head = heads.get(e.directory)!;
    const [next] = e.position < head ? await log.readChanges(e.position, 1, e.directory) : [];
    const state: EndpointState = !active(e)
      ? 'inactive'
      : e.deadPosition !== undefined
        ? 'dead-letter'
        : e.paused
          ? 'paused'
          : e.attempts > 0
            ? 'retrying'
            : 'delivering';
    statuses.push({
      name: e.name,
      source: e.source,
      url: displayUrl(e.url),
      events: e.events ?? null,
      state,
      position: e.position,
      head,
      lagPositions: Math.max(0, head - e.position),
      lagSeconds: next ? Math.max(0, Math.round((now - Date.parse(next.at)) / 100) / 10) : 0,
      lastDeliveredAt: iso(e.lastDeliveredAt),
      lastAttemptAt: iso(e.lastAttemptAt),
      lastStatus: e.lastStatus ?? null,
      lastError: e.lastError ?? null,
      attempts: e.attempts,
      nextAttemptAt: e.attempts > 0 && e.deadPosition === undefined ? iso(e.nextAttemptAt) : null,
      delivered: e.delivered,
      failures: e.failures,
      deadLetter: e.deadPosition !== undefined ? { position: e.deadPosition, at: iso(e.deadAt)! } : null,
    });
  }
  return statuses;
}
