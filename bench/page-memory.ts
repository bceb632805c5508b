/**
 * `npx tsx bench/page-memory.ts [sqlite|postgres] [users] [kib] [parallel]`: what list pages of large users cost the
 * bridge's memory. Stores `users` users of about `kib` KiB each over HTTP, then asks for them in one page
 * (count=1000) three times, one at a time, then `parallel` such pages at once, and prints the bridge's resident
 * memory after each. Loopback only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rssOf, startBundle } from './bundle';
import { BENCH_POSTGRES_URL, BUNDLE, freshPostgres } from './lib';

const [kind = 'sqlite', usersArg = '1000', kibArg = '60', parallelArg = '8'] = process.argv.slice(2);
const users = Number(usersArg);
const kib = Number(kibArg);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'scim-page-memory-'));
  const pg = kind === 'postgres' ? (BENCH_POSTGRES_URL ? await freshPostgres('scim_page') : undefined) : undefined;
  if (kind === 'postgres' && !pg) throw new Error('set SCIM_TEST_POSTGRES_URL (source .ci/postgres.sh)');
  const bridge = await startBundle(pg ? pg.url : `sqlite:${join(dir, 'bridge.db')}`, BUNDLE);
  const headers = { authorization: `Bearer ${bridge.token}`, 'content-type': 'application/scim+json' };
  try {
    const pid = bridge.child.pid!;
    const filler = 'é'.repeat(Math.floor((kib * 1024) / 2 / 4)); // 2 UTF-8 bytes each, in 4 attributes
    for (let i = 0; i < users; i++) {
      const res = await fetch(`${bridge.url}/scim/v2/Users`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          userName: `big${i}@example.com`,
          title: filler,
          nickName: filler,
          displayName: filler,
          profileUrl: `https://example.com/${filler}`,
        }),
      });
      if (res.status !== 201) throw new Error(`create answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    }
    process.stdout.write(`${kind}: ${users} users of about ${kib} KiB stored; RSS ${Math.round(rssOf(pid))} MB\n`);
    for (let round = 1; round <= 3; round++) {
      const res = await fetch(`${bridge.url}/scim/v2/Users?count=1000`, { headers });
      const bytes = (await res.arrayBuffer()).byteLength;
      process.stdout.write(`  page ${round}: ${res.status}, ${(bytes / 1048576).toFixed(1)} MiB, RSS ${Math.round(rssOf(pid))} MB\n`);
    }
    const parallel = Number(parallelArg);
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 20);
    const statuses = await Promise.all(
      Array.from({ length: parallel }, async () => {
        const res = await fetch(`${bridge.url}/scim/v2/Users?count=1000`, { headers });
        await res.arrayBuffer();
        return res.status;
      }),
    );
    clearInterval(sampler);
    process.stdout.write(`  ${parallel} pages at once: ${statuses.join(' ')}, RSS at most ${Math.round(peak)} MB, ${Math.round(rssOf(pid))} MB after\n`);
  } finally {
    await bridge.stop();
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
