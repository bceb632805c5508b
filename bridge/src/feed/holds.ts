/**
 * What an operator does with a hold (the CLI, the HTTP API and the status page call these): list, show with the
 * people affected, release (the net change per resource goes into the feed, in order) or discard (the held
 * changes are dropped: the application never hears of them). Each decision is a provisioning event.
 */
import { ScimError, badRequest, notFound } from '../scim/errors';
import type { HoldRecord, PendingRow } from '../store/guard-sql';
import type { Store, StoreTx } from '../store/types';
import { netEffectInOrder } from './guard';

export type { HoldRecord };

/** A person a hold keeps the application from hearing about, and what would happen to them. */
export interface AffectedPerson {
  readonly id: string;
  readonly userName?: string;
  /** `suspended`, `deleted`, or `removed from GROUP`. */
  readonly change: string;
}

export interface HoldDetails {
  readonly hold: HoldRecord;
  readonly people: readonly AffectedPerson[];
  /** Whether `people` was cut at the display bound. */
  readonly truncated: boolean;
  /** The held changes, in order (type, resource, when). */
  readonly changes: readonly { readonly seq: number; readonly at: string; readonly type: string; readonly resource: string; readonly members?: number }[];
}

/** People listed by `show` at most (the counts are always whole). */
export const MAX_LISTED_PEOPLE = 1000;

/** A hold id as the CLI and the API take it: a positive whole number. */
export function parseHoldId(raw: string | undefined): number {
  const id = Number(raw);
  if (!raw || !/^\d{1,15}$/.test(raw) || !Number.isSafeInteger(id) || id < 1)
    throw badRequest('invalidValue', `a hold id is a positive whole number (got "${raw ?? ''}")`);
  return id;
}

export function listHolds(store: Store): Promise<HoldRecord[]> {
  return store.guard.listHolds();
}

/** Names looked up in the store at most, per `show` (the rest are named by the held changes or by id). */
const MAX_LOOKUPS = 200;

async function affectedPeople(store: Store, rows: readonly PendingRow[]): Promise<{ people: AffectedPerson[]; truncated: boolean }> {
  const people: AffectedPerson[] = [];
  const seen = new Set<string>();
  // The held user changes name their people: a group removal's members are mostly among them.
  const names = new Map<string, string>();
  for (const { change } of rows)
    if (change.resource.type === 'User' && typeof change.state?.userName === 'string') names.set(change.resource.id, change.state.userName);
  let lookups = 0;
  let truncated = false;
  const add = async (id: string, change: string, userName?: string) => {
    const key = `${id}|${change}`;
    if (seen.has(key)) return;
    if (people.length >= MAX_LISTED_PEOPLE) {
      truncated = true;
      return;
    }
    seen.add(key);
    let name = userName ?? names.get(id);
    if (name === undefined && lookups++ < MAX_LOOKUPS) name = (await store.getUser(id))?.userName;
    people.push({ id, change, userName: name });
  };
  for (const { change } of rows) {
    if (change.type === 'user.suspended' || change.type === 'user.deleted') {
      await add(change.resource.id, change.type === 'user.suspended' ? 'suspended' : 'deleted', change.state?.userName as string | undefined);
    } else if (change.type === 'group.members.removed') {
      const group = (change.state?.displayName as string | undefined) ?? change.resource.id;
      for (const id of change.members ?? []) await add(id, `removed from ${group}`);
    }
  }
  return { people, truncated };
}

export async function showHold(store: Store, id: number): Promise<HoldDetails> {
  const hold = await store.guard.getHold(id);
  if (!hold) throw notFound(`no hold with id ${id} (see "scim-bridge holds list")`);
  const rows = await store.guard.holdRows(id);
  const { people, truncated } = await affectedPeople(store, rows);
  return {
    hold,
    people,
    truncated,
    changes: rows.map((row) => ({
      seq: row.seq,
      at: row.at,
      type: row.change.type,
      resource: `${row.change.resource.type}/${row.change.resource.id}`,
      ...(row.change.members ? { members: row.change.members.length } : {}),
    })),
  };
}

export interface Decision {
  readonly hold: HoldRecord;
  /** Changes that were held. */
  readonly held: number;
  /** Changes appended to the feed (the net effect); 0 for a discard. */
  readonly delivered: number;
}

async function decide(store: Store, id: number, state: 'released' | 'discarded', by: string): Promise<Decision> {
  const at = new Date().toISOString();
  return store.transaction(async (tx: StoreTx) => {
    const hold = await tx.guard.getHold(id);
    if (!hold) throw notFound(`no hold with id ${id} (see "scim-bridge holds list")`);
    if (!(await tx.guard.decideHold(id, state, by, at)))
      throw new ScimError(409, `hold ${id} was already ${hold.state} by ${hold.decidedBy ?? 'someone'} at ${hold.decidedAt ?? 'an earlier time'}`);
    const rows = await tx.guard.holdRows(id);
    const net = state === 'released' ? netEffectInOrder(rows) : [];
    if (net.length > 0) await tx.appendChanges(net);
    await tx.guard.deleteHoldRows(id);
    await tx.recordEvent({
      at,
      actor: by,
      action: state === 'released' ? 'hold.release' : 'hold.discard',
      resourceName: `hold ${id}`,
      outcome: 'success',
      status: 200,
      detail:
        state === 'released'
          ? `released hold ${id} of ${hold.actor}: ${rows.length} held changes, ${net.length} delivered as their net effect`
          : `discarded hold ${id} of ${hold.actor}: ${rows.length} held changes dropped from the feed`,
    });
    return { hold: { ...hold, state, decidedAt: at, decidedBy: by, changes: 0, people: 0 }, held: rows.length, delivered: net.length };
  });
}

/** Delivers the net effect of the hold's changes, in order. */
export function releaseHold(store: Store, id: number, by: string): Promise<Decision> {
  return decide(store, id, 'released', by);
}

/** Drops the hold's changes from the feed (the directory keeps them: it mirrors the identity provider). */
export function discardHold(store: Store, id: number, by: string): Promise<Decision> {
  return decide(store, id, 'discarded', by);
}
