/**
 * An example application that follows the bridge's change feed: it receives the webhooks, verifies each signature
 * with `standardwebhooks` (the Standard Webhooks reference implementation), and applies the change to its own
 * table in a SQLite file, idempotently:
 *
 * - a change is applied only when it is newer than what the table holds for that resource: a higher resource
 *   version, or the same version at a later position (one write that adds 10,000 members arrives as several
 *   membership changes of one version). A duplicate, a retry or a replay of something already applied changes
 *   nothing, so at-least-once delivery is safe;
 * - a 2xx is answered only after the change is committed, so the bridge retries anything not stored.
 *
 * When it has lost its state (or is told to: `--resync`, or the feed answers 410 Gone), it rebuilds the table from
 * the bridge's snapshot (`/api/snapshot`, with a read token) and takes the snapshot's position as where it is.
 *
 *   node examples/consumer/consumer.ts --port 4000 --db ./consumer.db --secret whsec_…
 *     [--bridge https://bridge.example.com --token READ_TOKEN] [--resync]
 */
import { DatabaseSync } from 'node:sqlite';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { Webhook } from 'standardwebhooks';

export interface ChangeEvent {
  readonly id: string;
  readonly type: string;
  readonly timestamp: string;
  readonly data: {
    readonly position: number;
    readonly resource: { readonly type: 'User' | 'Group'; readonly id: string; readonly version: number };
    readonly state?: Record<string, unknown>;
    readonly members?: readonly string[];
  };
}

/** The application's own table of what the directory holds. */
export class ConsumerTable {
  readonly db: DatabaseSync;

  constructor(path: string) {
    this.db = new DatabaseSync(path);
    this.db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
      CREATE TABLE IF NOT EXISTS resources (
        type TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, position INTEGER NOT NULL,
        deleted INTEGER NOT NULL, state TEXT, PRIMARY KEY (type, id));
      CREATE TABLE IF NOT EXISTS members (group_id TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (group_id, user_id));
      CREATE TABLE IF NOT EXISTS applied (id TEXT PRIMARY KEY, position INTEGER NOT NULL, type TEXT NOT NULL, resource TEXT NOT NULL, version INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS cursor (one INTEGER PRIMARY KEY CHECK (one = 1), position INTEGER NOT NULL);`);
  }

  /** Applies one change; false when it was not newer than what the table holds (a duplicate or a stale replay). */
  apply(event: ChangeEvent): boolean {
    const { resource, position, state, members } = event.data;
    const held = this.db.prepare('SELECT version, position FROM resources WHERE type = ? AND id = ?').get(resource.type, resource.id) as
      | { version: number; position: number }
      | undefined;
    if (held && (resource.version < held.version || (resource.version === held.version && position <= held.position))) return false;
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const deleted = event.type.endsWith('.deleted');
      // A membership change carries no state: the resource's state stays what it was.
      this.db
        .prepare(`INSERT INTO resources (type, id, version, position, deleted, state) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (type, id) DO UPDATE SET version = excluded.version, position = excluded.position, deleted = excluded.deleted,
        state = CASE WHEN ? THEN resources.state ELSE excluded.state END`)
        .run(
          resource.type,
          resource.id,
          resource.version,
          position,
          deleted ? 1 : 0,
          state ? JSON.stringify(state) : null,
          state === undefined && !deleted ? 1 : 0,
        );
      if (event.type === 'group.members.added')
        for (const user of members ?? []) this.db.prepare('INSERT OR IGNORE INTO members VALUES (?, ?)').run(resource.id, user);
      if (event.type === 'group.members.removed')
        for (const user of members ?? []) this.db.prepare('DELETE FROM members WHERE group_id = ? AND user_id = ?').run(resource.id, user);
      if (event.type === 'group.deleted') this.db.prepare('DELETE FROM members WHERE group_id = ?').run(resource.id);
      if (event.type === 'user.deleted') this.db.prepare('DELETE FROM members WHERE user_id = ?').run(resource.id);
      this.db
        .prepare('INSERT OR IGNORE INTO applied VALUES (?, ?, ?, ?, ?)')
        .run(event.id, position, event.type, `${resource.type}/${resource.id}`, resource.version);
      this.db.prepare('INSERT INTO cursor VALUES (1, ?) ON CONFLICT (one) DO UPDATE SET position = MAX(position, excluded.position)').run(position);
      this.db.exec('COMMIT');
      return true;
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  /** Replaces everything with a snapshot taken as of `position`. */
  replace(position: number, users: readonly Record<string, unknown>[], groups: readonly Record<string, unknown>[]): void {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      this.db.exec('DELETE FROM resources; DELETE FROM members; DELETE FROM applied;');
      const version = (doc: Record<string, unknown>) => Number(/(\d+)/.exec(String((doc.meta as { version?: string } | undefined)?.version ?? '0'))?.[1] ?? 0);
      for (const [type, docs] of [
        ['User', users],
        ['Group', groups],
      ] as const) {
        for (const doc of docs) {
          const { members, ...state } = doc as { members?: { value: string }[] };
          this.db.prepare('INSERT INTO resources VALUES (?, ?, ?, ?, 0, ?)').run(type, String(doc.id), version(doc), position, JSON.stringify(state));
          for (const member of members ?? []) this.db.prepare('INSERT OR IGNORE INTO members VALUES (?, ?)').run(String(doc.id), member.value);
        }
      }
      this.db.prepare('INSERT INTO cursor VALUES (1, ?) ON CONFLICT (one) DO UPDATE SET position = excluded.position').run(position);
      this.db.exec('COMMIT');
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  /** The resource as the table holds it (undefined when never seen). */
  get(type: 'User' | 'Group', id: string): { version: number; deleted: boolean; state?: Record<string, unknown> } | undefined {
    const row = this.db.prepare('SELECT version, deleted, state FROM resources WHERE type = ? AND id = ?').get(type, id) as
      | { version: number; deleted: number; state: string | null }
      | undefined;
    return row ? { version: row.version, deleted: row.deleted === 1, state: row.state ? JSON.parse(row.state) : undefined } : undefined;
  }

  position(): number {
    return (this.db.prepare('SELECT position FROM cursor').get() as { position: number } | undefined)?.position ?? 0;
  }

  close(): void {
    this.db.close();
  }
}

/**
 * Rebuilds the table from the bridge's snapshot: `GET /api/snapshot` (paged with `next`) answers the users and
 * groups as of one position, which becomes the table's position; the feed is then followed from there.
 */
export async function resync(table: ConsumerTable, bridge: string, token: string): Promise<number> {
  const users: Record<string, unknown>[] = [];
  const groups: Record<string, unknown>[] = [];
  let position: number | undefined;
  let url: string | undefined = `${bridge}/api/snapshot`;
  for (let pages = 0; url && pages < 100_000; pages++) {
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(`snapshot: ${response.status} ${await response.text()}`);
    const page = (await response.json()) as { position: number; users?: Record<string, unknown>[]; groups?: Record<string, unknown>[]; next?: string | null };
    position ??= page.position;
    users.push(...(page.users ?? []));
    groups.push(...(page.groups ?? []));
    url = page.next ? new URL(page.next, bridge).toString() : undefined;
  }
  table.replace(position ?? 0, users, groups);
  return position ?? 0;
}

export interface ConsumerServer {
  readonly url: string;
  readonly server: http.Server;
  close(): Promise<void>;
}

/** The webhook receiver: verify, apply, then answer 204 (401 for a bad signature, 500 when the change was not stored). */
export function receive(table: ConsumerTable, secret: string, port = 0, host = '127.0.0.1', path = '/webhooks'): Promise<ConsumerServer> {
  const verifier = new Webhook(secret);
  const server = http.createServer((request, response) => {
    if (request.method !== 'POST' || request.url !== path) {
      response.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= 2 * 1024 * 1024) chunks.push(chunk);
    });
    request.on('end', () => {
      let event: ChangeEvent;
      try {
        // Verified on the raw bytes, before parsing: the signature covers the body exactly as sent.
        event = verifier.verify(Buffer.concat(chunks).toString('utf8'), request.headers as Record<string, string>) as ChangeEvent;
      } catch {
        response.writeHead(401).end();
        return;
      }
      try {
        table.apply(event);
        response.writeHead(204).end();
      } catch (error) {
        response.writeHead(500).end((error as Error).message);
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(port, host, () => {
      const address = server.address() as { port: number };
      resolve({
        url: `http://${host}:${address.port}${path}`,
        server,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4000' },
      db: { type: 'string', default: './consumer.db' },
      secret: { type: 'string' },
      bridge: { type: 'string' },
      token: { type: 'string' },
      resync: { type: 'boolean', default: false },
    },
  });
  const secret = values.secret ?? process.env.WEBHOOK_SECRET;
  if (!secret) throw new Error('--secret whsec_… (or WEBHOOK_SECRET) is required');
  const table = new ConsumerTable(values.db!);
  if (values.resync) {
    if (!values.bridge || !values.token) throw new Error('--resync needs --bridge URL and --token READ_TOKEN');
    console.log(`resynced from the snapshot at position ${await resync(table, values.bridge, values.token)}`);
  }
  const { url } = await receive(table, secret, Number(values.port));
  console.log(`receiving webhooks at ${url}; the table is at position ${table.position()}`);
}

// Run as a program (node examples/consumer/consumer.ts), not when a test imports it.
if (/consumer\.ts$/.test(process.argv[1] ?? '') && process.env.JEST_WORKER_ID === undefined) {
  main().catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}
