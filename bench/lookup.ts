/**
 * The look-up without HTTP (`npx tsx bench/lookup.ts [src-root]`): `Directory.listUsers` with
 * `filter=userName eq "…"` against SQLite (1k and 100k users, a 50k-member group) and PostgreSQL (100k users,
 * when SCIM_TEST_POSTGRES_URL is set), in microseconds per call, one call at a time. `src-root` is a checkout of
 * another commit (e.g. `git archive <commit> bridge/src contract`) to compare its store against this one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? join(__dirname, '..'));
const load = (path: string) => require(join(root, 'bridge', 'src', path));
const { openStore } = load('store/open');
const { Directory } = load('directory/directory');
// Since the edge rewrite the Directory takes a parsed request (the edge parses the query string); before it, the
// raw filter. Either way the parse is timed with the look-up, as the HTTP path pays it.
const { parseListRequest } = load('scim/query') as { parseListRequest?: (kind: string, params: Record<string, string>) => { query: unknown } };
const { BENCH_POSTGRES_URL, freshPostgres, seed, userName } = require('./lib') as typeof import('./lib');

async function measure(label: string, url: string, users: number, calls: number): Promise<void> {
  const store = await openStore(url, {});
  await store.migrate();
  const directory = new Directory(store, { allowedDomains: [] });
  const ctx = { actor: 'bench', requestId: 'r', baseUrl: 'http://127.0.0.1/scim/v2' };
  const once = (i: number) => {
    const filter = `userName eq "${userName((i * 7919) % users)}"`;
    return parseListRequest ? directory.listUsers(parseListRequest('User', { filter }).query) : directory.listUsers({ filter }, ctx);
  };
  for (let i = 0; i < 2000; i++) await once(i);
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await once(i);
  const us = Number(process.hrtime.bigint() - started) / 1000 / calls;
  process.stdout.write(`| ${label} | ${us.toFixed(1)} |\n`);
  await store.close();
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'scim-lookup-'));
  process.stdout.write(`| store (${root}) | µs per look-up |\n|---|---|\n`);
  const small = `sqlite:${join(dir, 'small.db')}`;
  await seed(small, 0, 1_000);
  await measure('SQLite, 1k users', small, 1_000, 20_000);
  const large = `sqlite:${join(dir, 'large.db')}`;
  await seed(large, 0, 100_000, 50_000);
  await measure('SQLite, 100k users + 50k-member group', large, 100_000, 20_000);
  if (BENCH_POSTGRES_URL) {
    const pg = await freshPostgres('scim_lookup');
    await seed(pg.url, 0, 100_000);
    await measure('PostgreSQL, 100k users', pg.url, 100_000, 5_000);
    await pg.drop();
  }
  rmSync(dir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
