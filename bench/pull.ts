/**
 * The pull API (`npx tsx bench/pull.ts`), on SQLite and (when SCIM_TEST_POSTGRES_URL is set) PostgreSQL, one bridge
 * in this process over loopback HTTP:
 * - catch-up: 5,000 changes read with `limit=1000`, in changes per second;
 * - wake latency: a client long-polls (`wait=30`) while 300 users are created one after another; from the write's
 *   commit (its Directory call returning) to the client holding the change, p50/p99 in ms; on PostgreSQL also from a
 *   second replica (woken by polling, every DEFAULT_FEED_POLL_MS);
 * - snapshot: paging the 5,300 users with `count=1000`, in ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Directory } from '../bridge/src/directory/directory';
import { buildApp } from '../bridge/src/http/app';
import { addToken, createSession, serializeSession } from '../bridge/src/session/scimsession';
import { SessionHolder, inlineSource } from '../bridge/src/session/source';
import { openStore } from '../bridge/src/store/open';
import { BENCH_POSTGRES_URL, freshPostgres } from './lib';

interface Replica {
  url: string;
  directory: Directory;
  stop(): Promise<void>;
}

const { session: provision } = createSession();
const read = addToken(provision, { scope: 'read' });
const headers = { authorization: `Bearer ${read.token}` };

async function replica(databaseUrl: string): Promise<Replica> {
  const store = await openStore(databaseUrl);
  await store.migrate();
  const holder = new SessionHolder(inlineSource(serializeSession(read.session)));
  await holder.start();
  const directory = new Directory(store, { allowedDomains: [] });
  const app = buildApp({ logLevel: false, directory, store, session: holder, version: 'bench' });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url,
    directory,
    async stop() {
      holder.stop();
      await app.close();
      await store.close();
    },
  };
}

const ctx = (i: number) => ({ actor: 'bench', requestId: `r${i}` });
let made = 0;
const createUser = (directory: Directory) => directory.createUser({ userName: `user${made++}@bench.example.com` }, ctx(made));

async function pull(url: string, after?: string, extra = ''): Promise<{ changes: { data: { resource: { id: string } } }[]; next: string }> {
  const response = await fetch(`${url}/api/changes?limit=1000${after ? `&after=${after}` : ''}${extra}`, { headers });
  if (response.status !== 200) throw new Error(`pull answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as never;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

/** Long-polls `reader` while 300 users are created on `writer`; ms from each commit to the client having it. */
async function wakeLatency(reader: Replica, writer: Replica): Promise<string> {
  let after = (await pull(reader.url)).next;
  const committed = new Map<string, number>();
  const latencies: number[] = [];
  const total = 300;
  const client = (async () => {
    while (latencies.length < total) {
      const page = await pull(reader.url, after, '&wait=30');
      const now = performance.now();
      for (const change of page.changes) {
        const at = committed.get(change.data.resource.id);
        if (at !== undefined) latencies.push(now - at);
      }
      after = page.next;
    }
  })();
  for (let i = 0; i < total; i++) {
    const view = await createUser(writer.directory);
    committed.set(view.user.id, performance.now());
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await client;
  latencies.sort((a, b) => a - b);
  return `p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms (${latencies.length} changes)`;
}

async function measure(label: string, databaseUrl: string, secondReplica: boolean): Promise<void> {
  const bridge = await replica(databaseUrl);
  for (let i = 0; i < 5000; i++) await createUser(bridge.directory);
  let started = performance.now();
  let after: string | undefined;
  let count = 0;
  for (;;) {
    const page = await pull(bridge.url, after);
    if (page.changes.length === 0) break;
    count += page.changes.length;
    after = page.next;
  }
  const catchUp = (count / ((performance.now() - started) / 1000)).toFixed(0);

  const sameReplica = await wakeLatency(bridge, bridge);
  let otherReplica = '–';
  if (secondReplica) {
    const writer = await replica(databaseUrl);
    otherReplica = await wakeLatency(bridge, writer);
    await writer.stop();
  }

  started = performance.now();
  let cursor = '';
  let items = 0;
  for (let i = 0; i < 100; i++) {
    const response = await fetch(`${bridge.url}/api/snapshot?count=1000${cursor ? `&cursor=${cursor}` : ''}`, { headers });
    const page = (await response.json()) as { items: unknown[]; next: string | null };
    items += page.items.length;
    if (!page.next) break;
    cursor = page.next;
  }
  const snapshotMs = (performance.now() - started).toFixed(0);
  process.stdout.write(`| ${label} | ${count} at ${catchUp}/s | ${sameReplica} | ${otherReplica} | ${items} items in ${snapshotMs} ms |\n`);
  await bridge.stop();
}

async function main(): Promise<void> {
  process.stdout.write('| store | catch-up (limit=1000) | wake, same replica | wake, other replica | snapshot (count=1000) |\n|---|---|---|---|---|\n');
  const dir = mkdtempSync(join(tmpdir(), 'scim-pull-'));
  await measure('SQLite', `sqlite:${join(dir, 'bridge.db')}`, false);
  if (BENCH_POSTGRES_URL) {
    const pg = await freshPostgres('scim_pull');
    await measure('PostgreSQL', pg.url, true);
    await pg.drop();
  }
  rmSync(dir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
