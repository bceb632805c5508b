/**
 * The deadline of a list query: no filter the cost model accepts (scim/filter-cost.ts) may hold a replica, or a
 * database connection, for longer than this. PostgreSQL runs list statements under a shorter statement_timeout;
 * SQLite (which runs on the event loop and has no timeout of its own) checks the deadline on every row a list
 * visits, and runs costly lists on a reader thread of its own, so /ping and look-ups answer meanwhile.
 * A list past its deadline is refused with 400 `tooMany`: the client asked for more work than the bridge does
 * in one request. SECURITY.md documents the figures.
 */
import { StoreRefused } from './types';

/** The longest a list query runs, from its first statement: page and count together. */
export const LIST_DEADLINE_MS = 2_000;

/**
 * Lists whose filter costs at least this (one document attribute read per row) run on SQLite's reader thread;
 * cheaper ones (paging through everyone, indexed comparisons) stay on the connection that serves look-ups.
 */
export const OFFLOAD_COST = 8;

/**
 * Characters one list statement may case-fold through a JavaScript function on SQLite (`scim_lower`, for
 * case-insensitive comparisons of document attributes). node:sqlite keeps every argument and result of a function
 * it calls alive until the statement ends, so without this bound ten `displayName co` terms over 100,000 users with
 * 240-character names held hundreds of MB (and 62 KB names exhausted the heap). 64 Mi characters (one substring
 * search through 100,000 names of 600 characters): some 100–200 MB held until the statement ends; past it the list
 * is refused like one past its deadline.
 */
export const FOLD_BUDGET_CHARS = 64 * 1024 * 1024;

export function listTimedOut(ms: number): StoreRefused {
  return new StoreRefused(
    400,
    `The query needs more work than the bridge does for one list (it stops one at ${ms / 1000} s, or past ${FOLD_BUDGET_CHARS / 1048576} Mi characters of text compared); narrow the filter or ask for fewer resources per page (count)`,
    'tooMany',
  );
}

/** The error SQLite's row guard throws past the deadline (a property, so it survives a thread boundary as data). */
export interface DeadlinePassed {
  readonly deadlinePassed: true;
}

export const isDeadlinePassed = (error: unknown): error is DeadlinePassed =>
  typeof error === 'object' && error !== null && (error as Partial<DeadlinePassed>).deadlinePassed === true;

export const deadlineError = (): Error & DeadlinePassed => Object.assign(new Error('the list deadline passed'), { deadlinePassed: true as const });
