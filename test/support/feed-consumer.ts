/**
 * An application's copy of the directory, kept by the pull API exactly as docs/pull-api.md tells consumers to: store a
 * snapshot, then apply the changes after its position in order, skipping a change whose version is lower than the
 * one held (a delete always applies). Also reads the directory over SCIM in the same shape, to compare.
 */

export interface Held {
  readonly version: number;
  /** The SCIM resource without `meta`, a user's `groups` or a group's `members`. */
  readonly state: Record<string, unknown>;
  /** A group's member ids. */
  readonly members?: ReadonlySet<string>;
}

interface Item {
  resource: { type: 'User' | 'Group'; id: string; version: number };
  state?: Record<string, unknown>;
}

interface ChangeDoc {
  id: string;
  type: string;
  data: Item & { position: number; members?: string[] };
}

const keyOf = (resource: Item['resource']) => `${resource.type}/${resource.id}`;

function attributes(state: Record<string, unknown>): Record<string, unknown> {
  const { meta: _meta, groups: _groups, members: _members, ...rest } = state;
  return rest;
}

const memberIds = (state: Record<string, unknown>) => new Set(((state.members as { value: string }[] | undefined) ?? []).map((m) => m.value));

export class FeedConsumer {
  readonly held = new Map<string, Held>();
  /** Changes applied and skipped (as stale), for assertions. */
  applied = 0;
  skipped = 0;

  applySnapshotItem(item: Item): void {
    this.held.set(keyOf(item.resource), {
      version: item.resource.version,
      state: attributes(item.state!),
      ...(item.resource.type === 'Group' ? { members: memberIds(item.state!) } : {}),
    });
  }

  applyChange(change: ChangeDoc): void {
    const { resource } = change.data;
    const key = keyOf(resource);
    const held = this.held.get(key);
    if (change.type.endsWith('.deleted')) {
      this.held.delete(key);
      this.applied++;
      return;
    }
    if (held && resource.version < held.version) {
      this.skipped++;
      return;
    }
    this.applied++;
    if (change.type === 'group.members.added' || change.type === 'group.members.removed') {
      // A group this copy does not hold is deleted later in the feed (docs/pull-api.md): nothing to keep.
      if (!held) return;
      const members = new Set(held.members);
      for (const id of change.data.members ?? []) {
        if (change.type === 'group.members.added') members.add(id);
        else members.delete(id);
      }
      this.held.set(key, { ...held, version: resource.version, members });
      return;
    }
    this.held.set(key, {
      version: resource.version,
      state: attributes(change.data.state!),
      ...(resource.type === 'Group' ? { members: held?.members ?? new Set<string>() } : {}),
    });
  }

  /** Comparable form: key → version, attributes and sorted members. */
  view(): Record<string, unknown> {
    return Object.fromEntries(
      [...this.held.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, held]) => [key, { version: held.version, state: held.state, ...(held.members ? { members: [...held.members].sort() } : {}) }]),
    );
  }
}

/** The directory as SCIM shows it (a provision token), in FeedConsumer.view()'s shape. */
export async function directoryView(scim: string, token: string): Promise<Record<string, unknown>> {
  const view: [string, unknown][] = [];
  for (const type of ['User', 'Group'] as const) {
    // Pages of 1000 (at most 100 of them), read while nothing writes.
    for (let startIndex = 1, page = 0; page < 100; page++) {
      const response = await fetch(`${scim}/${type}s?count=1000&startIndex=${startIndex}`, { headers: { authorization: `Bearer ${token}` } });
      const list = (await response.json()) as { totalResults: number; Resources: Record<string, unknown>[] };
      for (const resource of list.Resources) {
        const version = Number(/W\/"(\d+)"/.exec((resource.meta as { version: string }).version)![1]);
        view.push([
          `${type}/${resource.id}`,
          { version, state: attributes(resource), ...(type === 'Group' ? { members: [...memberIds(resource)].sort() } : {}) },
        ]);
      }
      startIndex += list.Resources.length;
      if (list.Resources.length === 0 || startIndex > list.totalResults) break;
    }
  }
  return Object.fromEntries(view.sort(([a], [b]) => a.localeCompare(b)));
}
