/**
 * Reading the pull API as an application does (a read token, `next` passed back unchanged), and holding what came
 * back to the feed's promises: every acknowledged write there exactly once, each resource's changes in version
 * order, positions that only grow with none skipped, cursors that never move backwards.
 */
import { parseFeedCursor } from '../../bridge/src/feed/cursor';
import type { Ack } from './idp-load';

export interface ChangeDoc {
  id: string;
  type: string;
  timestamp: string;
  data: {
    position: number;
    resource: { type: 'User' | 'Group'; id: string; version: number };
    state?: Record<string, unknown>;
    members?: string[];
    requestId?: string;
  };
}

interface Page {
  status: number;
  retryAfter: string | null;
  changes?: ChangeDoc[];
  next?: string;
  text: string;
}

async function getPage(url: string, token: string, after: string | undefined, limit: number, wait: number, cancel?: AbortSignal): Promise<Page> {
  const query = new URLSearchParams({ limit: String(limit), wait: String(wait), ...(after ? { after } : {}) });
  const timeout = AbortSignal.timeout((wait + 20) * 1000);
  try {
    const res = await fetch(`${url}/api/changes?${query}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: cancel ? AbortSignal.any([cancel, timeout]) : timeout,
    });
    const text = await res.text();
    const body = res.status === 200 ? (JSON.parse(text) as { changes: ChangeDoc[]; next: string }) : undefined;
    return { status: res.status, retryAfter: res.headers.get('retry-after'), changes: body?.changes, next: body?.next, text };
  } catch (error) {
    return { status: 0, retryAfter: null, text: String(error) };
  }
}

const positionOf = (cursor: string) => {
  const parsed = parseFeedCursor(cursor);
  if (!parsed) throw new Error(`the bridge gave out a cursor it cannot read: ${cursor}`);
  return parsed.position;
};

/**
 * Reads every change after `after` (from the oldest retained without it) with `wait=0` until a page comes back
 * empty; throws on any answer but 200. Bounded: at most `maxPages` pages.
 */
export async function readFeed(
  url: string,
  token: string,
  options: { after?: string; limit?: number; maxPages?: number } = {},
): Promise<{ changes: ChangeDoc[]; next: string | undefined }> {
  const changes: ChangeDoc[] = [];
  let after = options.after;
  for (let i = 0; i < (options.maxPages ?? 2000); i++) {
    const page = await getPage(url, token, after, options.limit ?? 1000, 0);
    if (page.status !== 200) throw new Error(`GET /api/changes answered ${page.status}: ${page.text.slice(0, 300)}`);
    if (page.changes!.length === 0) return { changes, next: page.next };
    changes.push(...page.changes!);
    after = page.next;
  }
  throw new Error('readFeed: the feed did not end within its page bound');
}

export interface SnapshotItem {
  resource: { type: 'User' | 'Group'; id: string; version: number };
  state: Record<string, unknown>;
}

/** Every page of `GET /api/snapshot`, and the feed cursor to follow it with (bounded: at most `maxPages` pages). */
export async function readSnapshot(url: string, token: string, maxPages = 100): Promise<{ items: SnapshotItem[]; after: string }> {
  const items: SnapshotItem[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < maxPages; i++) {
    const res = await fetch(`${url}/api/snapshot?count=1000${cursor ? `&cursor=${cursor}` : ''}`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`GET /api/snapshot answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    const page = (await res.json()) as { items: SnapshotItem[]; after: string; next: string | null };
    items.push(...page.items);
    if (page.next === null) return { items, after: page.after };
    cursor = page.next;
  }
  throw new Error('readSnapshot: the snapshot did not end within its page bound');
}

/**
 * A long-polling consumer: follows `/api/changes` with `wait` until finish() is called and a page (then asked
 * without waiting) comes back empty. Every answer is checked as it comes; what breaks a promise goes to `problems`.
 */
export class FeedFollower {
  readonly changes: ChangeDoc[] = [];
  readonly statuses = new Map<number, number>();
  readonly problems: string[] = [];
  /** Pages that brought changes. */
  pages = 0;
  private cursor: string | undefined;
  private position: number | undefined;
  private finishing = false;
  private through: number | undefined;
  private finishBy = Number.POSITIVE_INFINITY;
  private running: Promise<void> | undefined;
  /** Ends the poll waiting when finish() is called (the writes are over: nothing would wake it). */
  private readonly waiting = new AbortController();

  constructor(
    private url: string,
    private readonly token: string,
    private readonly options: {
      after?: string;
      wait?: number;
      limit?: number;
      maxRequests?: number;
      deadlineMs?: number;
      /** The bridge is killed on purpose: a request that gets no answer is expected, not a problem. */
      noAnswerExpected?: boolean;
    } = {},
  ) {
    this.cursor = options.after;
    this.position = options.after === undefined ? undefined : positionOf(options.after);
  }

  start(): void {
    this.running = this.run();
  }

  /** Follows another bridge from the same cursor (the killed one's replacement), from the next request on. */
  moveTo(url: string): void {
    this.url = url;
  }

  /**
   * Reads what is left and resolves once the consumer holds position `through` (every change the test knows was
   * committed), or, without it, once a page comes back empty. On PostgreSQL an empty page is not the end: a read
   * that finds another request numbering changes (the wait this cuts short, say) answers what is numbered so far.
   */
  async finish(through?: number): Promise<void> {
    this.through = through;
    this.finishBy = Date.now() + 20_000;
    this.finishing = true;
    this.waiting.abort();
    await this.running;
  }

  private async run(): Promise<void> {
    const deadline = Date.now() + (this.options.deadlineMs ?? 120_000);
    for (let i = 0; i < (this.options.maxRequests ?? 20_000); i++) {
      if (Date.now() > Math.min(deadline, this.finishBy)) {
        this.problems.push(`the follower ran out of time at position ${this.position}${this.through === undefined ? '' : ` (to reach ${this.through})`}`);
        return;
      }
      const finishing = this.finishing;
      const page = await getPage(
        this.url,
        this.token,
        this.cursor,
        this.options.limit ?? 200,
        finishing ? (this.through === undefined ? 0 : 1) : (this.options.wait ?? 5),
        finishing ? undefined : this.waiting.signal,
      );
      if (page.status === 0 && !finishing && this.finishing) continue; // the wait finish() cut short
      this.statuses.set(page.status, (this.statuses.get(page.status) ?? 0) + 1);
      if (page.status === 503 || page.status === 429) {
        if (!page.retryAfter) this.problems.push(`${page.status} without Retry-After`);
        await new Promise((r) => setTimeout(r, Math.min(1000, 1000 * Number(page.retryAfter ?? 1))));
        continue;
      }
      if (page.status !== 200) {
        if (page.status !== 0 || !this.options.noAnswerExpected) this.problems.push(`answered ${page.status}: ${page.text.slice(0, 300)}`);
        if (page.status === 0) await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      this.take(page.changes!, page.next!);
      if (finishing && (this.through === undefined ? page.changes!.length === 0 : (this.position ?? 0) >= this.through)) return;
    }
    this.problems.push('the follower ran out of requests');
  }

  private take(changes: ChangeDoc[], next: string): void {
    const before = this.position;
    const nextPosition = positionOf(next);
    if (before !== undefined && nextPosition < before) this.problems.push(`the cursor moved backwards: ${before} → ${nextPosition}`);
    let last = before;
    for (const change of changes) {
      const { position } = change.data;
      // Positions commit contiguously (change-log.ts): a hole after the cursor is a skipped change.
      if (last !== undefined && position !== last + 1) this.problems.push(`after position ${last} came ${position}`);
      last = position;
    }
    if (changes.length > 0) {
      this.pages++;
      if (nextPosition !== last) this.problems.push(`next names ${nextPosition}, the page ended at ${last}`);
    } else if (before !== undefined && nextPosition !== before) this.problems.push(`an empty page moved the cursor ${before} → ${nextPosition}`);
    this.changes.push(...changes);
    this.cursor = next;
    this.position = nextPosition;
  }
}

export interface FeedVerdict {
  /** Acknowledged writes with no change in the feed. */
  readonly missing: Ack[];
  /** Acknowledged writes matched by more than one change. */
  readonly repeated: Ack[];
  /** The same change (type, resource, version, members) more than once. */
  readonly duplicated: string[];
  /** A resource's change with a lower version than one before it, or a change after its resource's delete. */
  readonly disordered: string[];
  /** Positions that do not grow along the feed. */
  readonly unordered: number;
}

const matches = (ack: Ack, change: ChangeDoc) =>
  change.type === ack.type &&
  change.data.resource.type === ack.resource.type &&
  change.data.resource.id === ack.resource.id &&
  (ack.version === undefined || change.data.resource.version === ack.version) &&
  (ack.member === undefined || (change.data.members ?? []).includes(ack.member));

/** Holds `changes` (in feed order) to what the feed promises about the acknowledged writes `acks`. */
export function verdict(acks: readonly Ack[], changes: readonly ChangeDoc[]): FeedVerdict {
  const byResource = new Map<string, ChangeDoc[]>();
  const seen = new Set<string>();
  const duplicated: string[] = [];
  const disordered: string[] = [];
  let unordered = 0;
  for (let i = 0; i < changes.length; i++) {
    const change = changes[i];
    if (i > 0 && change.data.position <= changes[i - 1].data.position) unordered++;
    const { resource } = change.data;
    const key = `${resource.type}/${resource.id}`;
    const identity = `${change.type} ${key} v${resource.version} ${JSON.stringify(change.data.members ?? [])}`;
    if (seen.has(identity)) duplicated.push(identity);
    seen.add(identity);
    const earlier = byResource.get(key) ?? [];
    const previous = earlier.at(-1);
    if (previous) {
      if (previous.type.endsWith('.deleted')) disordered.push(`${identity} after ${previous.type}`);
      // One write's changes (a membership change in chunks, adds and removes) share a version and a request id.
      const sameWrite =
        resource.version === previous.data.resource.version && change.data.requestId !== undefined && change.data.requestId === previous.data.requestId;
      if (resource.version < previous.data.resource.version || (resource.version === previous.data.resource.version && !sameWrite)) {
        disordered.push(`${identity} at ${change.data.position} after v${previous.data.resource.version} at ${previous.data.position}`);
      }
    }
    earlier.push(change);
    byResource.set(key, earlier);
  }
  const missing: Ack[] = [];
  const repeated: Ack[] = [];
  for (const ack of acks) {
    const found = (byResource.get(`${ack.resource.type}/${ack.resource.id}`) ?? []).filter((change) => matches(ack, change));
    if (found.length === 0) missing.push(ack);
    else if (found.length > 1) repeated.push(ack);
  }
  return { missing, repeated, duplicated, disordered, unordered };
}
