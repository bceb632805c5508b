/**
 * The deprovisioning guard's holds over HTTP: `GET /api/holds` and `GET /api/holds/:id` for any valid token (the
 * status page shows its banner whoever signed in: it shows nothing a read token cannot read over SCIM), and
 * `POST /api/holds/:id/release` and `/discard` for an operator (`operate`) token only. The status page uses them.
 */
import type { FastifyInstance } from 'fastify';
import { BRIDGE_PATHS } from '../../../contract';
import { discardHold, listHolds, parseHoldId, releaseHold, showHold } from '../feed/holds';
import { ROUTE_SCOPES } from './plugins/bearer-auth';
import type { Store } from '../store/types';

export interface HoldsApiOptions {
  /** The store itself (not the directory's gated view): a release appends straight to the feed. */
  readonly store: Store;
}

interface ById {
  Params: { id: string };
}

/** Who decided, in the provisioning event: the API, with the request id that ties it to the log line. */
const OPERATOR = 'operator (api)';

export function registerHoldsApi(app: FastifyInstance, options: HoldsApiOptions): void {
  const reading = { config: { bearer: ROUTE_SCOPES.any } };
  const deciding = { config: { bearer: ROUTE_SCOPES.operate } };
  const base = BRIDGE_PATHS.holds;

  app.get(base, reading, async () => ({ holds: await listHolds(options.store) }));

  app.get<ById>(`${base}/:id`, reading, async (request) => showHold(options.store, parseHoldId(request.params.id)));

  app.post<ById>(`${base}/:id/release`, deciding, async (request) => releaseHold(options.store, parseHoldId(request.params.id), OPERATOR));

  app.post<ById>(`${base}/:id/discard`, deciding, async (request) => discardHold(options.store, parseHoldId(request.params.id), OPERATOR));
}
