/**
 * PostgreSQL pool size by measurement (`npx tsx bench/pool-size.ts`): one bridge on 100k users, look-ups
 * (32 connections) and creates (16 connections) at each pool size, beside the bare baseline of the same run.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, freePorts, freshPostgres, run, seed, startBaseline, startBridge, userName } from './lib';

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';

async function main(): Promise<void> {
  execFileSync(process.execPath, [join(ROOT, 'bridge', 'build.mjs')], { stdio: 'inherit' });
  const pg = await freshPostgres('scim_pool');
  const url = new URL(pg.url);
  await seed(pg.url, 0, 100_000);
  const port = await freePorts();
  const baseline = await startBaseline(port);
  const bare = await run({ url: `http://127.0.0.1:${port}`, lua: { path: '"/scim/v2/Users"' }, next: () => ({ path: '/scim/v2/Users' }), seconds: 5 });
  baseline.kill();
  process.stdout.write(`bare: ${bare.rps}/s\n\n| pool size | look-ups/s | ratio | p99 ms | creates/s | p99 ms |\n|---|---|---|---|---|---|\n`);
  for (const size of (process.env.POOL_SIZES ?? '1,2,3,5,8,16').split(',').map(Number)) {
    const bridge = await startBridge(url.toString(), port + 1, { SCIM_DATABASE_POOL_SIZE: String(size) });
    const auth = { authorization: `Bearer ${bridge.token}` };
    const lookups = await run({
      url: bridge.url,
      headers: auth,
      connections: 32,
      seconds: 5,
      lua: { path: `"/scim/v2/Users?filter=userName%20eq%20%22user" .. ((n * 7919) % 100000) .. "%40bench.example.com%22"` },
      next: (n) => ({ path: `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${userName((n * 7919) % 100_000)}"`)}` }),
    });
    const creates = await run({
      url: bridge.url,
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/scim+json' },
      connections: 16,
      seconds: 4,
      lua: { path: '"/scim/v2/Users"', body: `'{"schemas":["${USER_SCHEMA}"],"userName":"p${size}-' .. n .. '@bench.example.com"}'` },
      next: (n) => ({ path: '/scim/v2/Users', body: JSON.stringify({ schemas: [USER_SCHEMA], userName: `p${size}-${n}@bench.example.com` }) }),
    });
    process.stdout.write(
      `| ${size} | ${lookups.rps.toLocaleString('en')} | ${(lookups.rps / bare.rps).toFixed(2)} | ${lookups.p99} | ${creates.rps.toLocaleString('en')} | ${creates.p99} |\n`,
    );
    await bridge.stop();
  }
  await pg.drop();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
