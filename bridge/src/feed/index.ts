/**
 * The change feed: what the directory delivers to the application.
 * - types.ts: the change records, the ChangeLog port (store/change-log.ts implements it on both stores), token scopes.
 * - cursor.ts, waiters.ts, snapshot.ts: the pull API's cursors, bounded long-polls and the reconciliation snapshot.
 * - endpoints.ts, endpoint-record.ts, endpoint-status.ts, signing.ts, safe-target.ts, retry.ts, delivery.ts: webhooks
 *   (declared and registered endpoints, Standard Webhooks signatures, safe targets, retries, leased in-order delivery).
 * - guard.ts, gate.ts, promoter.ts, holds.ts: the deprovisioning guard (rules, the gate on the append path, the
 *   promoter that settles or holds, and the operator's release and discard).
 */
export * from './types';
