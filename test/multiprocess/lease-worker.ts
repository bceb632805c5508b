/**
 * A process racing for one lease (run by leases.test.ts, twice at once): while it holds the lease it does a
 * deliberately non-atomic read-modify-write of a shared counter in the store's state, so two holders at once
 * would lose increments. Prints how many increments it made.
 */
import { PostgresStore } from '../../bridge/src/store/postgres';

async function main(): Promise<void> {
  const [url, holder, rounds] = [process.env.LEASE_URL!, process.env.LEASE_HOLDER!, Number(process.env.LEASE_ROUNDS)];
  const store = await PostgresStore.connect(url, {});
  let increments = 0;
  let spins = 0;
  while (increments < rounds && spins++ < 20_000) {
    if (!(await store.tryAcquireLease('counter', holder, 5_000))) {
      await new Promise((r) => setImmediate(r));
      continue;
    }
    for (let i = 0; i < 3 && increments < rounds; i++) {
      const value = Number((await store.getState('counter')) ?? '0');
      await new Promise((r) => setTimeout(r, 1)); // widen the window a second holder would need
      if (!(await store.renewLease('counter', holder, 5_000))) throw new Error(`${holder} lost the lease it held`);
      await store.setState('counter', String(value + 1));
      increments++;
    }
    if (!(await store.releaseLease('counter', holder))) throw new Error(`${holder} could not release the lease it held`);
  }
  await store.close();
  process.stdout.write(`${JSON.stringify({ holder, increments })}\n`);
}

main().catch((error) => {
  process.stderr.write(`${String(error?.stack ?? error)}\n`);
  process.exit(1);
});
