/**
 * The deprovisioning guard's holds over HTTP (an operator's token): `GET /api/holds`, `GET /api/holds/:id`,
 * `POST /api/holds/:id/release`, `POST /api/holds/:id/discard`. The status page uses the same routes.
 */
import type { FastifyInstance } from 'fastify';
import { BRIDGE_PATHS } from '../../../contract';
import { discardHold, listHolds, parseHoldId, releaseHold, showHold } from '../feed/holds';
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
  const guarded = { config: { bearer: true } };
  const base = BRIDGE_PATHS.holds;

  app.get(base, guarded, async () => ({ holds: await listHolds(options.store) }));

  app.get<ById>(`${base}/:id`, guarded, async (request) => showHold(options.store, parseHoldId(request.params.id)));

  app.post<ById>(`${base}/:id/release`, guarded, async (request) => releaseHold(options.store, parseHoldId(request.params.id), OPERATOR));

  app.post<ById>(`${base}/:id/discard`, guarded, async (request) => discardHold(options.store, parseHoldId(request.params.id), OPERATOR));
}
