/**
 * An identity provider's write load over real HTTP, for the feed's fault tests: lanes of sequential writes that
 * create users, suspend and reactivate them, retitle them, add and remove them as members of a group every lane
 * shares and of the lane's own group, and delete users and groups. Each write the bridge acknowledged (2xx) is kept
 * with the change it must appear as in the feed: its type, resource id and version (ETag), and the member for a
 * membership change. A write that got anything else leaves its resource unknown to the lane, which stops using it
 * (so later requests never depend on a write that may or may not have happened).
 */
import type { ChangeType } from '../../bridge/src/feed/types';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** A write acknowledged with a 2xx, as the change the feed must hold for it. */
export interface Ack {
  readonly type: ChangeType;
  readonly resource: { readonly type: 'User' | 'Group'; readonly id: string };
  /** From the ETag; a delete's answer carries none. */
  readonly version?: number;
  /** The user a membership change adds or removes. */
  readonly member?: string;
}

interface Answer {
  status: number;
  version?: number;
  retryAfter?: number;
  body?: Record<string, unknown>;
}

/** One request, bounded in time; status 0 when no answer came (refused, reset, killed, timed out). */
async function send(url: string, token: string, method: string, path: string, body?: unknown): Promise<Answer> {
  try {
    const res = await fetch(`${url}/scim/v2${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    const etag = res.headers.get('etag');
    const version = etag ? Number(/W\/"(\d+)"/.exec(etag)?.[1]) : undefined;
    const retryAfter = res.headers.get('retry-after');
    return {
      status: res.status,
      version,
      retryAfter: retryAfter ? Number(retryAfter) : undefined,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
    };
  } catch {
    return { status: 0 };
  }
}

/** A small deterministic generator, so a lane's choices repeat from run to run. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

interface LaneGroup {
  id: string;
  /** This lane's users in it (the only members the lane adds or removes). */
  members: Set<string>;
}

export interface IdpLoadOptions {
  /** Bridges to write to: lane i writes to targets[i % n], and the shared group gets writes from all of them. */
  readonly targets: readonly string[];
  readonly token: string;
  /** @default 6 */
  readonly lanes?: number;
  /** Writes per lane at most (the load also ends at stop()). @default 2000 */
  readonly maxWritesPerLane?: number;
  /**
   * Users created before the lanes start, which one more lane adds to a group of their own all at once and removes
   * all at once, over and over: each such write is several membership changes (MEMBERS_PER_CHANGE ids each) that
   * must be in the feed all or none. @default 0 (no bulk lane)
   */
  readonly bulkMembers?: number;
}

export class IdpLoad {
  readonly acks: Ack[] = [];
  /** Answers by status (0: none). */
  readonly statuses = new Map<number, number>();
  private running = true;
  private finished: Promise<void> | undefined;
  private readonly waiting = new Set<() => void>();
  private sharedGroup: string | undefined;
  /** Every lane's users (a lane changes others' only by their title). */
  private readonly users = new Set<string>();
  /** Answers no fault explains (anything but 2xx, 503 and 429 with Retry-After, or none), as `METHOD path: status`. */
  readonly unexpected: string[] = [];
  /** Bulk membership writes that got no answer (cut off by the fault), for the figures. */
  bulkCutOff = 0;

  constructor(private readonly options: IdpLoadOptions) {}

  /** Writes acknowledged (a bulk write is one, with several entries in `acks`). */
  acknowledged = 0;

  /** Creates the shared group, then runs the lanes until stop() or their bound. */
  async start(): Promise<void> {
    const created = await this.write(this.options.targets[0], 'POST', '/Groups', { schemas: [GROUP], displayName: 'Everyone' });
    if (created.status !== 201) throw new Error(`the shared group could not be created: ${created.status}`);
    this.sharedGroup = created.body!.id as string;
    this.ack({ type: 'group.created', resource: { type: 'Group', id: this.sharedGroup }, version: created.version });
    const bulk = await this.bulkUsers(this.options.bulkMembers ?? 0);
    const lanes = Array.from({ length: this.options.lanes ?? 6 }, (_, lane) => this.lane(lane));
    if (bulk.length > 0) lanes.push(this.bulkLane(bulk));
    this.finished = Promise.all(lanes).then(() => {
      // Every lane reached its bound: whoever still waits for acknowledgements learns it now.
      this.running = false;
      for (const check of [...this.waiting]) check();
    });
  }

  /** Resolves once `count` writes in all have been acknowledged (or the load ended first: then rejects). */
  untilAcknowledged(count: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.acknowledged >= count) {
          this.waiting.delete(check);
          resolve();
        } else if (!this.running) {
          this.waiting.delete(check);
          reject(new Error(`the load ended with ${this.acknowledged} of ${count} writes acknowledged`));
        }
      };
      this.waiting.add(check);
      check();
    });
  }

  /** Ends the lanes after their current request; resolves once every lane has stopped. */
  async stop(): Promise<void> {
    this.running = false;
    await this.finished;
    for (const check of [...this.waiting]) check();
  }

  private ack(ack: Ack, sameWrite = false): void {
    this.acks.push(ack);
    if (!sameWrite) this.acknowledged++;
    for (const check of [...this.waiting]) check();
  }

  private async write(url: string, method: string, path: string, body?: unknown, mayBeGone = false): Promise<Answer> {
    const answer = await send(url, this.options.token, method, path, body);
    this.statuses.set(answer.status, (this.statuses.get(answer.status) ?? 0) + 1);
    const explained =
      answer.status === 0 || (answer.status >= 200 && answer.status < 300) || ((answer.status === 503 || answer.status === 429) && answer.retryAfter! > 0);
    if (!explained && !(mayBeGone && answer.status === 404))
      this.unexpected.push(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body ?? '').slice(0, 200)}`);
    // An identity provider backs off as told (bounded: at most a second here) or briefly when nothing answered.
    if (answer.status === 503 || answer.status === 429) await new Promise((r) => setTimeout(r, Math.min(1000, 1000 * (answer.retryAfter ?? 1))));
    else if (answer.status === 0 && this.running) await new Promise((r) => setTimeout(r, 100));
    return answer;
  }

  /** Creates `count` users, 8 at a time (before any fault: each must be acknowledged). */
  private async bulkUsers(count: number): Promise<string[]> {
    const ids: string[] = [];
    const url = this.options.targets[0];
    for (let start = 0; start < count; start += 8) {
      const answers = await Promise.all(
        Array.from({ length: Math.min(8, count - start) }, (_, i) =>
          this.write(url, 'POST', '/Users', { schemas: [USER], userName: `bulk-${start + i}@example.com` }),
        ),
      );
      for (const answer of answers) {
        if (answer.status !== 201) throw new Error(`a bulk member could not be created: ${answer.status}`);
        ids.push(answer.body!.id as string);
        this.ack({ type: 'user.created', resource: { type: 'User', id: answer.body!.id as string }, version: answer.version });
      }
    }
    return ids;
  }

  /** Adds all of `ids` to a group in one PATCH, removes them all in the next, until stopped. */
  private async bulkLane(ids: readonly string[]): Promise<void> {
    const url = this.options.targets[this.options.targets.length - 1];
    // A few members spread over the write's chunks: each must be in exactly one of its changes.
    const sampled = [ids[0], ids[Math.floor(ids.length / 2)], ids[ids.length - 1]];
    let group: string | undefined;
    let full = false;
    for (let i = 0; i < 200 && this.running; i++) {
      if (!group) {
        const answer = await this.write(url, 'POST', '/Groups', { schemas: [GROUP], displayName: `bulk-${i}` });
        if (answer.status === 201) {
          group = answer.body!.id as string;
          full = false;
          this.ack({ type: 'group.created', resource: { type: 'Group', id: group }, version: answer.version });
        }
        continue;
      }
      const operation = full ? { op: 'remove', path: 'members' } : { op: 'add', path: 'members', value: ids.map((value) => ({ value })) };
      const answer = await this.write(url, 'PATCH', `/Groups/${group}`, { schemas: [PATCH], Operations: [operation] });
      if (answer.status === 204) {
        const id = group;
        for (const [i, member] of sampled.entries()) {
          this.ack({ type: full ? 'group.members.removed' : 'group.members.added', resource: { type: 'Group', id }, version: answer.version, member }, i > 0);
        }
        full = !full;
      } else {
        if (answer.status === 0) this.bulkCutOff++;
        group = undefined; // its members are unknown now: start over with a new group
      }
    }
  }

  private async lane(lane: number): Promise<void> {
    const url = this.options.targets[lane % this.options.targets.length];
    const next = random(lane * 7919 + 17);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
    const users = new Map<string, { active: boolean }>();
    let own: LaneGroup | undefined;
    // This lane's own users in the shared group: a lane never touches another's users (its removal could be a no-op).
    const shared: LaneGroup = { id: this.sharedGroup!, members: new Set() };
    let n = 0;
    const forget = (id: string) => {
      users.delete(id);
      this.users.delete(id);
      shared.members.delete(id);
      own?.members.delete(id);
    };
    for (let i = 0; i < (this.options.maxWritesPerLane ?? 2000) && this.running; i++) {
      const r = next();
      const ids = [...users.keys()];
      if (ids.length < 3 || r < 0.22) {
        const answer = await this.write(url, 'POST', '/Users', { schemas: [USER], userName: `lane${lane}-${n++}@example.com`, title: 'new' });
        if (answer.status === 201) {
          users.set(answer.body!.id as string, { active: true });
          this.users.add(answer.body!.id as string);
          this.ack({ type: 'user.created', resource: { type: 'User', id: answer.body!.id as string }, version: answer.version });
        }
      } else if (r < 0.4) {
        const id = pick(ids);
        const active = !users.get(id)!.active;
        const answer = await this.write(url, 'PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: active }] });
        if (answer.status === 200) {
          users.set(id, { active });
          this.ack({ type: active ? 'user.reactivated' : 'user.suspended', resource: { type: 'User', id }, version: answer.version });
        } else forget(id);
      } else if (r < 0.5) {
        // A title change on this lane's user or on any lane's (which may be written through another replica at the
        // same moment, or deleted: a 404 then).
        const everyone = [...this.users];
        const id = next() < 0.5 || everyone.length === 0 ? pick(ids) : pick(everyone);
        const answer = await this.write(
          url,
          'PATCH',
          `/Users/${id}`,
          { schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: `t-${lane}-${i}` }] },
          !users.has(id),
        );
        if (answer.status === 200) this.ack({ type: 'user.updated', resource: { type: 'User', id }, version: answer.version });
        else if (users.has(id)) forget(id);
      } else if (r < 0.7) {
        // Add one of this lane's users to the shared group or its own (created when there is none).
        if (!own) {
          const answer = await this.write(url, 'POST', '/Groups', { schemas: [GROUP], displayName: `lane${lane}-${n++}` });
          if (answer.status === 201) {
            own = { id: answer.body!.id as string, members: new Set() };
            this.ack({ type: 'group.created', resource: { type: 'Group', id: own.id }, version: answer.version });
          }
          continue;
        }
        const group = next() < 0.5 ? shared : own;
        const candidates = ids.filter((id) => !group.members.has(id));
        if (candidates.length === 0) continue;
        const id = pick(candidates);
        const answer = await this.write(url, 'PATCH', `/Groups/${group.id}`, {
          schemas: [PATCH],
          Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }],
        });
        if (answer.status === 204) {
          group.members.add(id);
          this.ack({ type: 'group.members.added', resource: { type: 'Group', id: group.id }, version: answer.version, member: id });
        } else if (group === own) own = undefined;
        else forget(id);
      } else if (r < 0.85) {
        const group = next() < 0.5 || !own ? shared : own;
        const mine = [...group.members];
        if (mine.length === 0) continue;
        const id = pick(mine);
        const answer = await this.write(url, 'PATCH', `/Groups/${group.id}`, {
          schemas: [PATCH],
          Operations: [{ op: 'remove', path: `members[value eq "${id}"]` }],
        });
        if (answer.status === 204) {
          group.members.delete(id);
          this.ack({ type: 'group.members.removed', resource: { type: 'Group', id: group.id }, version: answer.version, member: id });
        } else if (group === own) own = undefined;
        else forget(id);
      } else if (r < 0.96 || !own) {
        const id = pick(ids);
        const answer = await this.write(url, 'DELETE', `/Users/${id}`);
        if (answer.status === 204) this.ack({ type: 'user.deleted', resource: { type: 'User', id } });
        forget(id);
      } else {
        const answer = await this.write(url, 'DELETE', `/Groups/${own.id}`);
        if (answer.status === 204) this.ack({ type: 'group.deleted', resource: { type: 'Group', id: own.id } });
        own = undefined;
      }
    }
  }
}
