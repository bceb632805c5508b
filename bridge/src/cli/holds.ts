/**
 * `scim-bridge holds list [--json] | show ID [--json] | release ID | discard ID`, run with the bridge's
 * SCIM_DATABASE_URL; and `scim-bridge groups grant-access [ID [--off]]`, which marks the groups whose removals
 * count as deprovisioning. Decisions are recorded as provisioning events with the actor `cli`.
 */
import { parseArgs } from 'node:util';
import { readConfig } from '../config';
import { discardHold, listHolds, parseHoldId, releaseHold, showHold } from '../feed/holds';
import { GRANT_ACCESS_KEY } from '../store/guard-sql';
import { openStore } from '../store/open';
import type { Store } from '../store/types';

type Out = (line: string) => void;

/** A mistake in how the command was called (exit code 2, see describeFailure in main.ts). */
export class HoldsUsageError extends Error {
  readonly usage = true;
}

async function withStore<T>(work: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(readConfig(process.env).databaseUrl);
  try {
    await store.migrate();
    return await work(store);
  } finally {
    await store.close();
  }
}

function holdId(raw: string | undefined, action: string): number {
  if (!raw) throw new HoldsUsageError(`holds ${action} needs a hold id (the first column of "scim-bridge holds list")`);
  try {
    return parseHoldId(raw);
  } catch (error) {
    throw new HoldsUsageError((error as Error).message);
  }
}

export async function holdsCommand(args: string[], out: Out): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean', default: false } }, allowPositionals: true, strict: true });
  const [action, raw] = positionals;
  switch (action) {
    case 'list':
      return withStore(async (store) => {
        const holds = await listHolds(store);
        if (values.json) {
          out(JSON.stringify(holds));
          return;
        }
        if (holds.length === 0) {
          out('No holds: every deprovisioning change reached the feed.');
          return;
        }
        out(['id', 'state', 'started', 'source', 'people', 'changes', 'reason'].join('\t'));
        for (const h of holds) out([h.id, h.state, h.startedAt, h.actor, h.people, h.changes, h.reason].join('\t'));
      });
    case 'show':
      return withStore(async (store) => {
        const details = await showHold(store, holdId(raw, 'show'));
        if (values.json) {
          out(JSON.stringify(details));
          return;
        }
        const h = details.hold;
        out(`hold ${h.id}: ${h.state}, started ${h.startedAt} by ${h.actor}`);
        out(`why: ${h.reason}`);
        if (h.decidedAt) out(`${h.state} by ${h.decidedBy} at ${h.decidedAt}`);
        out(`${h.changes} changes held, ${h.people} people affected:`);
        for (const p of details.people) out(`  ${p.userName ?? p.id}\t${p.change}`);
        if (details.truncated) out(`  … and more (the first ${details.people.length} are listed)`);
      });
    case 'release':
    case 'discard':
      return withStore(async (store) => {
        const id = holdId(raw, action);
        const decision = action === 'release' ? await releaseHold(store, id, 'cli') : await discardHold(store, id, 'cli');
        out(
          action === 'release'
            ? `Released hold ${id}: ${decision.held} held changes reached the feed as ${decision.delivered} (their net effect).`
            : `Discarded hold ${id}: ${decision.held} held changes will never reach the feed (the directory still has them).`,
        );
      });
    default:
      throw new HoldsUsageError(`unknown holds command "${action ?? ''}"; expected list, show, release or discard`);
  }
}

/** `groups grant-access`: lists the marked groups; `groups grant-access ID [--off]` marks or unmarks one. */
export async function grantAccessCommand(args: string[], out: Out): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { off: { type: 'boolean', default: false } }, allowPositionals: true, strict: true });
  const [id] = positionals;
  return withStore(async (store) => {
    const marked = await store.guard.grantAccessGroups();
    if (!id) {
      if (marked.size === 0) out('No group is marked as granting access: only suspensions and deletions count as deprovisioning.');
      for (const groupId of [...marked].sort()) out(`${groupId}\t${(await store.getGroup(groupId))?.displayName ?? '(no longer in the directory)'}`);
      return;
    }
    const group = await store.getGroup(id);
    if (!group && !values.off) throw new HoldsUsageError(`no group with id ${id} (see "scim-bridge groups list")`);
    if (values.off) marked.delete(id);
    else marked.add(id);
    const name = group?.displayName ?? id;
    await store.transaction(async (tx) => {
      await tx.setState(GRANT_ACCESS_KEY, JSON.stringify([...marked].sort()));
      await tx.recordEvent({
        at: new Date().toISOString(),
        actor: 'cli',
        action: values.off ? 'group.grant-access.off' : 'group.grant-access',
        resourceType: 'Group',
        resourceId: id,
        resourceName: name,
        outcome: 'success',
        status: 200,
      });
    });
    out(
      values.off
        ? `"${name}" no longer counts as granting access: removals from it reach the feed like any change.`
        : `"${name}" grants access: removals from it count as deprovisioning for the guard.`,
    );
  });
}
