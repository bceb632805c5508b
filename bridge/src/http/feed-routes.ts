/**
 * The pull API, for applications that cannot receive webhooks (read tokens only):
 * - `GET /api/changes?after=CURSOR&limit=N&wait=SECONDS`: the changes after the cursor, in position order, as the
 *   same Standard Webhooks documents the webhooks send, and the cursor to ask with next. `wait` long-polls: the
 *   answer comes as soon as a change commits, or empty at the end of the wait.
 * - `GET /api/snapshot?cursor=CURSOR&count=N`: the whole directory, paged, and the feed cursor to follow it with
 *   (feed/snapshot.ts says what makes the pair exact).
 * A cursor behind the retained log answers 410 (resync from the snapshot); a malformed one 400.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { BRIDGE_PATHS } from '../../../contract';
import { type FeedCursor, feedCursor, parseFeedCursor, parseSnapshotCursor, type SnapshotCursor, snapshotCursor } from '../feed/cursor';
import { DEFAULT_SNAPSHOT_PAGE, MAX_SNAPSHOT_PAGE, type SnapshotSource, readSnapshotPage } from '../feed/snapshot';
import { type ChangeLog, DEFAULT_DIRECTORY, changeDocument } from '../feed/types';
import type { ChangeWaiters } from '../feed/waiters';
import { ScimError, badRequest } from '../scim/errors';
import type { Store } from '../store/types';
import { ROUTE_SCOPES } from './plugins/bearer-auth';

export const DEFAULT_CHANGES_PAGE = 100;
export const MAX_CHANGES_PAGE = 1000;
/** The longest long-poll: under the response deadline, the idle timeout and every cloud's load balancer timeout. */
export const MAX_WAIT_SECONDS = 30;
/** Long-polls waiting at once per replica: a small share of the authenticated pool, so they cannot starve SCIM. */
export const DEFAULT_MAX_WAITING = 32;
/** How often a waiting long-poll reads the log for changes committed by other replicas. */
export const DEFAULT_FEED_POLL_MS = 1000;

export interface FeedRouteOptions {
  readonly store: SnapshotSource & ChangeLog & Pick<Store, 'onChangesCommitted'>;
  /** The long-polls waiting (app.ts makes it, sized DEFAULT_MAX_WAITING unless told, and shows its count). */
  readonly waiters: ChangeWaiters;
  /** @default DEFAULT_FEED_POLL_MS */
  readonly pollMs?: number;
}

interface ChangesQuery {
  Querystring: { after?: string; limit?: string; wait?: string };
}
interface SnapshotQuery {
  Querystring: { cursor?: string; count?: string };
}

const FEED = { config: { bearer: ROUTE_SCOPES.feed } } as const;

function wholeNumber(name: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min) {
    throw badRequest('invalidValue', `"${name}" must be a whole number${min > 0 ? ` of at least ${min}` : ''} (got "${raw.slice(0, 40)}")`);
  }
  return value;
}

const invalidCursor = (name: string) =>
  badRequest('invalidValue', `"${name}" is not a cursor this bridge gave out; pass the value of "next" (or "after") unchanged`);

const resync = (what: string) =>
  new ScimError(
    410,
    `${what} is older than the oldest change the bridge keeps: changes after it were pruned. Resync: read ${BRIDGE_PATHS.snapshot} and follow ${BRIDGE_PATHS.changes} from the "after" cursor it gives`,
  );

const sendJson = (reply: FastifyReply, body: unknown) => reply.type('application/json; charset=utf-8').send(JSON.stringify(body));

export async function feedRoutes(app: FastifyInstance, options: FeedRouteOptions): Promise<void> {
  const { store } = options;
  const pollMs = options.pollMs ?? DEFAULT_FEED_POLL_MS;
  const { waiters } = options;
  const stopListening = store.onChangesCommitted(() => waiters.notify());
  // Waiting long-polls answer at once when the bridge shuts down, so they never hold up a deploy.
  app.addHook('preClose', (done) => {
    waiters.close();
    done();
  });
  app.addHook('onClose', (_app, done) => {
    stopListening();
    done();
  });

  /** Changes after `position` were pruned: the reader would miss some. */
  const pruned = async (position: number) => (await store.oldestPosition(DEFAULT_DIRECTORY)) > position + 1;

  app.get<ChangesQuery>(BRIDGE_PATHS.changes, FEED, async (request, reply) => {
    const limit = Math.min(MAX_CHANGES_PAGE, wholeNumber('limit', request.query.limit, 1) ?? DEFAULT_CHANGES_PAGE);
    const waitSeconds = Math.min(MAX_WAIT_SECONDS, wholeNumber('wait', request.query.wait, 0) ?? 0);
    let cursor: FeedCursor;
    if (request.query.after === undefined || request.query.after === '') {
      // No cursor: from the oldest change retained.
      cursor = { directory: DEFAULT_DIRECTORY, position: Math.max(0, (await store.oldestPosition(DEFAULT_DIRECTORY)) - 1) };
    } else {
      const parsed = parseFeedCursor(request.query.after);
      if (!parsed || parsed.directory !== DEFAULT_DIRECTORY) throw invalidCursor('after');
      cursor = parsed;
    }

    const deadline = Date.now() + waitSeconds * 1000;
    let waiting = false;
    let gone = false;
    let onGone!: () => void;
    // The client hung up: stop waiting for it.
    const hungUp = new Promise<void>((resolve) => {
      onGone = () => {
        gone = true;
        resolve();
      };
    });
    reply.raw.once('close', onGone);
    try {
      for (let first = true; ; first = false) {
        const woken = waiters.next(); // before the read: a commit in between still wakes this poll
        const changes = await store.readChanges(cursor.position, limit, cursor.directory);
        // A hole right after the cursor is either pruning (410) or positions never committed (a rolled-back insert).
        const hole = changes.length > 0 ? changes[0].position !== cursor.position + 1 : first;
        if (hole && (await pruned(cursor.position))) throw resync('"after"');
        const remaining = deadline - Date.now();
        if (changes.length > 0 || remaining <= 0 || gone || waiters.closing) {
          const next = changes.length > 0 ? { directory: cursor.directory, position: changes[changes.length - 1].position } : cursor;
          // Shutting down: this connection must not stay open for keep-alive after the answer, or close() waits on it.
          if (waiters.closing) reply.header('connection', 'close');
          return sendJson(reply, { changes: changes.map(changeDocument), next: feedCursor(next) });
        }
        if (!waiting) {
          if (!waiters.enter()) throw new ScimError(429, `${waiters.max} clients are already waiting for changes on this replica; retry shortly`, undefined, 1);
          waiting = true;
        }
        let timer: NodeJS.Timeout | undefined;
        // A commit here, the next poll (other replicas' commits), or the client going away.
        await Promise.race([woken, hungUp, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.min(pollMs, remaining))))]);
        clearTimeout(timer);
      }
    } finally {
      reply.raw.off('close', onGone);
      if (waiting) waiters.leave();
    }
  });

  app.get<SnapshotQuery>(BRIDGE_PATHS.snapshot, FEED, async (request, reply) => {
    const count = Math.min(MAX_SNAPSHOT_PAGE, wholeNumber('count', request.query.count, 1) ?? DEFAULT_SNAPSHOT_PAGE);
    let from: SnapshotCursor | undefined;
    if (request.query.cursor !== undefined && request.query.cursor !== '') {
      from = parseSnapshotCursor(request.query.cursor);
      if (!from || from.directory !== DEFAULT_DIRECTORY) throw invalidCursor('cursor');
    }
    const page = await readSnapshotPage(store, from, count);
    // A snapshot paged for longer than the log is kept could no longer be followed without a gap.
    if (from && (await pruned(page.position))) throw resync('This snapshot');
    return sendJson(reply, {
      position: page.position,
      after: feedCursor({ directory: from?.directory ?? DEFAULT_DIRECTORY, position: page.position }),
      items: page.items,
      next: page.next ? snapshotCursor(page.next) : null,
    });
  });
}
