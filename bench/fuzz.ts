/**
 * `npm run fuzz`: generated requests (valid, near-valid, hostile, raw) against the bundled bridge in its own
 * process, on each store, every answer checked online and the store checked for consistency afterwards.
 *
 *   npm run fuzz -- [--seed S] [--requests N] [--store sqlite|postgres|both] [--clients C] [--seconds T] [--light]
 *
 * Defaults: 1,000,000 requests per store, both stores (PostgreSQL when SCIM_TEST_POSTGRES_URL or
 * SCIM_BENCH_POSTGRES_URL is set, e.g. after `source .ci/postgres.sh`), 4 clients, at most an hour per store, a
 * seed from the clock (printed: pass it back with --seed to replay the same requests). `--light` leaves out the
 * slow-by-design cases (12 MiB bodies, slow-loris connections held for the bridge's 30 s request timeout).
 * Loopback only. Writes the summary as JSON to bench/results/fuzz-<store>-<seed>.json; exits 1 on any violation.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_POSTGRES_URL, ROOT } from './lib';
import { type FuzzStore, type FuzzSummary, runFuzz } from './fuzz/run';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    requests: { type: 'string', default: '1000000' },
    store: { type: 'string', default: 'both' },
    clients: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '3600' },
    light: { type: 'boolean', default: false },
  },
});

function wholeNumber(name: string, raw: string | undefined): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number of at least 1 (got ${raw})`);
  return value;
}

function report(summary: FuzzSummary): void {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out();
  out(
    `## ${summary.store}: ${summary.sent.toLocaleString('en')} requests in ${summary.durationSeconds} s (${summary.requestsPerSecond.toLocaleString('en')}/s), seed ${JSON.stringify(summary.seed)}`,
  );
  out();
  out('| class | requests | statuses | p50 ms | p99 ms | max ms |');
  out('|---|---|---|---|---|---|');
  for (const [cls, t] of Object.entries(summary.byClass)) {
    const statuses = Object.entries(t.statuses)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([s, n]) => `${s}: ${n.toLocaleString('en')}`)
      .join(', ');
    out(`| ${cls} | ${t.total.toLocaleString('en')} | ${statuses} | ${t.p50Ms} | ${t.p99Ms} | ${t.maxMs} |`);
  }
  out();
  const fivexx =
    Object.entries(summary.serverErrors)
      .map(([s, n]) => `${s}: ${n}`)
      .join(', ') || 'none';
  out(
    `5xx seen: ${fivexx}; no answer: ${summary.noAnswer}; violations: ${summary.violations}; error log lines: ${summary.errorLogLines}; exit on SIGTERM: ${summary.bridgeExit}`,
  );
  out(`RSS: ${summary.rssMb.start} MB at start, ${summary.rssMb.end} MB at the end, ${summary.rssMb.max} MB at most`);
  const c = summary.consistency;
  if (c) {
    out(
      `store afterwards: ${c.users} users, ${c.groups} groups, ${c.memberships} memberships, ${c.events.toLocaleString('en')} events; ${c.unexplained} unexplained resources (${c.uncertain} unanswered writes); ${c.problems.length} problems`,
    );
    for (const p of c.problems.slice(0, 20)) out(`  - ${p}`);
  }
  for (const v of summary.firstViolations.slice(0, 20))
    out(`  ! lane ${v.lane} #${v.index} ${v.kind}: ${v.problem}\n      ${v.request.slice(0, 400)}\n      → ${v.status} ${v.answer.slice(0, 300)}`);
  out(summary.passed ? 'PASSED' : 'FAILED');
}

async function main(): Promise<void> {
  const seed = values.seed ?? String(Date.now());
  const requests = wholeNumber('requests', values.requests);
  const clients = wholeNumber('clients', values.clients);
  const seconds = wholeNumber('seconds', values.seconds);
  const stores: FuzzStore[] = values.store === 'both' ? (BENCH_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite']) : [values.store as FuzzStore];
  for (const store of stores) if (store !== 'sqlite' && store !== 'postgres') throw new Error(`--store must be sqlite, postgres or both (got ${store})`);
  if (values.store === 'both' && !BENCH_POSTGRES_URL) process.stdout.write('PostgreSQL skipped: set SCIM_TEST_POSTGRES_URL (source .ci/postgres.sh)\n');
  let failed = false;
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  for (const store of stores) {
    const summary = await runFuzz({ seed, requests, store, clients, seconds, heavy: !values.light, log: (line) => process.stdout.write(`${line}\n`) });
    report(summary);
    const file = join(dir, `fuzz-${store}-${seed.replace(/[^\w.-]/g, '_')}.json`);
    writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
    process.stdout.write(`summary written to ${file}\n`);
    failed ||= !summary.passed;
  }
  process.exit(failed ? 1 : 0);
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
