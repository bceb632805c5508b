/**
 * Refused requests recorded within a budget. A client without a token, or a token holder sending requests the
 * bridge refuses, could otherwise write one event row per request (3,740 in 15 s; gigabytes a day). Within each
 * minute, the first refusal of a kind (action, client, status, client address) is recorded as it happened, the next ones of that
 * kind are counted, and when the minute ends one row says how many there were ("37 more refused requests …
 * in the last minute"). At most MAX_REFUSAL_KINDS kinds get rows of their own per minute; the rest share one row.
 * So refusals write at most 2 × MAX_REFUSAL_KINDS + 1 rows a minute, whatever the traffic (SECURITY.md gives the
 * size a day). Metrics still count every refusal: the store's instrumentation sees each one before this does.
 * Successful changes are always recorded one by one, in their transaction.
 */
import type { ProvisioningEvent, Store } from '../store/types';

export const REFUSAL_WINDOW_MS = 60_000;
export const MAX_REFUSAL_KINDS = 5;
/** The most rows refused requests write in a day (every window full): the figure SECURITY.md sizes databases by. */
export const MAX_REFUSAL_ROWS_PER_DAY = (2 * MAX_REFUSAL_KINDS + 1) * ((24 * 60 * 60_000) / REFUSAL_WINDOW_MS);

interface Kind {
  readonly first: ProvisioningEvent;
  more: number;
}

/** The client address a refusal names (`… from 203.0.113.7)`, as the bearer check writes it): part of its kind. */
function addressOf(event: ProvisioningEvent): string | undefined {
  const detail = event.detail;
  return detail?.endsWith(')') ? /\sfrom ([^\s()]+)\)$/.exec(detail)?.[1] : undefined;
}

export class RefusalBudget {
  private kinds = new Map<string, Kind>();
  private others = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly write: (event: ProvisioningEvent) => Promise<void>,
    private readonly windowMs = REFUSAL_WINDOW_MS,
    private readonly now: () => Date = () => new Date(),
  ) {}

  record(event: ProvisioningEvent): Promise<void> {
    if (event.outcome !== 'refused') return this.write(event);
    const key = `${event.action}\u0000${event.actor}\u0000${event.status}\u0000${addressOf(event) ?? ''}`;
    const kind = this.kinds.get(key);
    if (kind) {
      kind.more++;
      return Promise.resolve();
    }
    if (this.kinds.size >= MAX_REFUSAL_KINDS) {
      this.others++;
      return Promise.resolve();
    }
    this.kinds.set(key, { first: event, more: 0 });
    this.timer ??= setTimeout(() => void this.flush().catch(() => undefined), this.windowMs).unref();
    return this.write(event);
  }

  /** Writes the window's counts and starts a new window (at the window's end, and on close). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const kinds = this.kinds;
    const others = this.others;
    this.kinds = new Map();
    this.others = 0;
    const at = this.now().toISOString();
    const minutes = this.windowMs / 60_000;
    const span = minutes === 1 ? 'the last minute' : `the last ${minutes} minutes`;
    for (const { first, more } of kinds.values()) {
      if (!more) continue;
      await this.write({
        at,
        actor: first.actor,
        action: first.action,
        resourceType: first.resourceType,
        outcome: 'refused',
        status: first.status,
        detail: `${more} more refused requests like this from ${first.actor}${addressOf(first) ? ` at ${addressOf(first)}` : ''} in ${span} (the first: ${first.detail ?? first.action})`,
      });
    }
    if (others) {
      await this.write({
        at,
        actor: 'several clients',
        action: 'requests.refused',
        outcome: 'refused',
        status: 400,
        detail: `${others} refused requests of other kinds in ${span}`,
      });
    }
  }
}

/** The store with refused requests' events recorded within the budget; closing it writes the last counts. */
export function budgetEvents(store: Store): Store {
  const budget = new RefusalBudget((event) => store.recordEvent(event));
  const special: Partial<Store> = {
    recordEvent: (event) => budget.record(event),
    close: async () => {
      await budget.flush().catch(() => undefined);
      await store.close();
    },
  };
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property in special) return special[property as keyof Store];
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
