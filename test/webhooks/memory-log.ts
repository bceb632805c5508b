/** A change log in memory (the ChangeLog port) for the delivery tests that need no directory in front of it. */
import type { DeliveryStore } from '../../bridge/src/feed/delivery';
import type { Change, ChangeInput, ChangeLog } from '../../bridge/src/feed/types';
import type { Store } from '../../bridge/src/store/types';

export class MemoryLog implements ChangeLog {
  readonly changes: Change[] = [];
  private readonly listeners = new Set<() => void>();
  private readonly versions = new Map<string, number>();

  /** Appends a change to `id` with the next version of that resource. */
  append(type: ChangeInput['type'], resourceId: string, extra: Partial<ChangeInput> = {}): Change {
    const resourceType = type.startsWith('user.') ? 'User' : 'Group';
    const key = `${resourceType}/${resourceId}`;
    const version = (this.versions.get(key) ?? 0) + 1;
    this.versions.set(key, version);
    const change: Change = {
      position: this.changes.length + 1,
      directory: 'default',
      at: new Date().toISOString(),
      type,
      actor: 'test',
      resource: { type: resourceType, id: resourceId, version },
      state: { id: resourceId, version },
      ...extra,
    };
    this.changes.push(change);
    for (const listener of this.listeners) listener();
    return change;
  }

  onChangesCommitted(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async readChanges(after: number, limit: number): Promise<Change[]> {
    return this.changes.filter((c) => c.position > after).slice(0, limit);
  }
  async headPosition(): Promise<number> {
    return this.changes.length;
  }
  async oldestPosition(): Promise<number> {
    return this.changes.length ? 1 : 0;
  }
  async positionAt(at: string): Promise<number | undefined> {
    return this.changes.find((c) => c.at >= at)?.position;
  }
  async pruneChanges(): Promise<number> {
    return 0;
  }
}

const LOG_METHODS = new Set(['readChanges', 'headPosition', 'oldestPosition', 'positionAt', 'pruneChanges', 'onChangesCommitted']);

/** A real store (endpoints, progress, leases) with the change log in memory. */
export function withLog(store: Store, log: MemoryLog): DeliveryStore {
  return new Proxy(store, {
    get(target, property) {
      const source: object = LOG_METHODS.has(String(property)) ? log : target;
      const value = Reflect.get(source, property);
      return typeof value === 'function' ? value.bind(source) : value;
    },
  }) as unknown as DeliveryStore;
}
