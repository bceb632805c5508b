/**
 * The deadline of a list query: no filter the cost model accepts (scim/filter-cost.ts) may hold a replica, or a
 * database connection, for longer than this. PostgreSQL runs list statements under a shorter statement_timeout;
 * SQLite (which runs on the event loop and has no timeout of its own) checks the deadline on every row a list
 * visits, and runs costly lists on a reader thread of its own, so /ping and look-ups answer meanwhile.
 * A list past its deadline is refused with 400 `tooMany`: the client asked for more work than the bridge does
 * in one request. SECURITY.md documents the figures.
 */
import { ScimError, badRequest } from '../scim/errors';

/** The longest a list query runs, from its first statement: page and count together. */
export const LIST_DEADLINE_MS = 2_000;

/**
 * Lists whose filter costs at least this (one document attribute read per row) run on SQLite's reader thread;
 * cheaper ones (paging through everyone, indexed comparisons) stay on the connection that serves look-ups.
 */
export const OFFLOAD_COST = 8;

export function listTimedOut(ms: number): ScimError {
  return badRequest(
    'tooMany',
    `The query ran past the bridge's ${ms / 1000} s limit for a list; narrow the filter or ask for fewer resources per page (count)`,
  );
}

/** The error SQLite's row guard throws past the deadline (a property, so it survives a thread boundary as data). */
export interface DeadlinePassed {
  readonly deadlinePassed: true;
}

export const isDeadlinePassed = (error: unknown): error is DeadlinePassed =>
  typeof error === 'object' && error !== null && (error as Partial<DeadlinePassed>).deadlinePassed === true;

export const deadlineError = (): Error & DeadlinePassed => Object.assign(new Error('the list deadline passed'), { deadlinePassed: true as const });
