/**
 * The gate on the change log's append path: inside the write's own transaction, each change the directory hands
 * over goes straight into the feed, or waits in `pending_changes` (a deprovisioning change settling, a change to a
 * resource that already has one waiting, anything a source sends while a hold of it is active). What waits reaches
 * the feed through the promoter or an operator's release, never around them, so order per resource holds.
 */
import type { Store, StoreTx } from '../store/types';
import type { NewPendingRow } from '../store/guard-sql';
import { type GuardSettings, deprovisionedSubjects, guardEnabled, resourceKey } from './guard';
import type { ChangeInput } from './types';

export interface GateOptions {
  readonly settings: GuardSettings;
  /** @default the wall clock */
  readonly now?: () => Date;
}

const NO_GROUPS: ReadonlySet<string> = new Set();

/** Appends `changes` (one write's, in order) through the guard: the feed gets what need not wait. */
export async function gateChanges(tx: StoreTx, changes: readonly ChangeInput[], options: GateOptions): Promise<void> {
  if (changes.length === 0) return;
  if (!guardEnabled(options.settings)) return tx.appendChanges(changes);
  const waiting = await tx.guard.waitingResources(changes.map(resourceKey));
  const grantAccess = changes.some((c) => c.type === 'group.members.removed' || c.type === 'group.deleted') ? await tx.guard.grantAccessGroups() : NO_GROUPS;
  const holds = new Map<string, number | undefined>();
  const activeHoldOf = async (actor: string) => {
    if (!holds.has(actor)) holds.set(actor, await tx.guard.activeHoldOf(actor));
    return holds.get(actor);
  };
  const at = (options.now?.() ?? new Date()).toISOString();
  const direct: ChangeInput[] = [];
  const pending: NewPendingRow[] = [];
  for (const change of changes) {
    const key = resourceKey(change);
    const subjects = deprovisionedSubjects(change, grantAccess);
    const people = subjects.length;
    const row = { at, actor: change.actor, resourceKey: key, subjects, change };
    if (waiting.has(key)) {
      // Behind what already waits for this resource, in the same hold if it is held.
      pending.push({ ...row, holdId: waiting.get(key) ?? undefined, state: 'pending' });
      continue;
    }
    if (people === 0) {
      direct.push(change);
      continue;
    }
    const hold = await activeHoldOf(change.actor);
    if (hold !== undefined || options.settings.settleSeconds > 0) {
      pending.push({ ...row, holdId: hold, state: 'pending' });
      waiting.set(key, hold ?? null);
      continue;
    }
    // No settle time: delivered now, and kept only to count the source's deprovisioning.
    direct.push(change);
    pending.push({ ...row, state: 'delivered' });
  }
  if (direct.length > 0) await tx.appendChanges(direct);
  if (pending.length > 0) await tx.guard.insertPending(pending);
}

/**
 * The store the directory writes through: the same store, whose transactions hand the directory a tx whose
 * `appendChanges` is the gate. Operator actions and the promoter use the store itself.
 */
export function guardStore(store: Store, options: GateOptions): Store {
  if (!guardEnabled(options.settings)) return store;
  const gatedTx = (tx: StoreTx) =>
    new Proxy(tx, {
      get(target, property, receiver) {
        if (property === 'appendChanges') return (changes: readonly ChangeInput[]) => gateChanges(target, changes, options);
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  const transaction = <T>(work: (tx: StoreTx) => Promise<T>) => store.transaction((tx) => work(gatedTx(tx)));
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'transaction') return transaction;
      // Appending outside a transaction opens one: through the gate too.
      if (property === 'appendChanges') return (changes: readonly ChangeInput[]) => transaction((tx) => tx.appendChanges(changes));
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
