/**
 * The CI slice of `npm run fuzz` (bench/fuzz): 20,000 seeded requests per store against the bundled bridge in its
 * own process (dist/scim-bridge.cjs, built by test/global-setup.js), 4 clients, without the slow-by-design cases.
 * Every answer is checked as it arrives (no 5xx but the store's own 503/507 with Retry-After, every error a SCIM
 * error body with the right status and scimType, every valid request answered as the lane's model predicts), the
 * process must stay up and stop cleanly, and the store must be consistent afterwards.
 *
 * The seed is fixed, so a failure reproduces: `SCIM_FUZZ_SEED=<seed> npx jest test/fuzz`, or the full tool:
 * `npm run fuzz -- --seed <seed> --requests 20000 --store <store> --light`. A violation names its lane and the
 * request's index in that lane's stream.
 */
import { type FuzzSummary, runFuzz } from '../../bench/fuzz/run';
import { STORE_KINDS } from '../support/bridge';

const SEED = process.env.SCIM_FUZZ_SEED ?? 'ci-slice-1';
const REQUESTS = 20_000;

function explain(summary: FuzzSummary): string {
  const lines = [
    `seed ${JSON.stringify(summary.seed)} on ${summary.store}: ${summary.violations} violations, ${summary.errorLogLines} error log lines, exit ${summary.bridgeExit}`,
  ];
  for (const v of summary.firstViolations.slice(0, 10))
    lines.push(`lane ${v.lane} #${v.index} ${v.kind}: ${v.problem}\n  ${v.request.slice(0, 300)}\n  → ${v.status} ${v.answer.slice(0, 200)}`);
  for (const p of summary.consistency?.problems.slice(0, 10) ?? []) lines.push(`store: ${p}`);
  return lines.join('\n');
}

describe.each(STORE_KINDS)('fuzz slice on the bundled bridge (%s store)', (store) => {
  it(`answers ${REQUESTS.toLocaleString('en')} generated requests sanely and keeps the store consistent`, async () => {
    const summary = await runFuzz({ seed: SEED, requests: REQUESTS, store, clients: 4, seconds: 600, heavy: false });
    if (!summary.passed) throw new Error(explain(summary));
    expect(summary.sent).toBe(REQUESTS);
    // 501: /Me and /Bulk, by design; 503 (with Retry-After, checked per answer) only if the store's pool was busy.
    expect(Object.keys(summary.serverErrors).filter((status) => status !== '501' && status !== '503')).toEqual([]);
    expect(summary.serverErrors[501]).toBeGreaterThan(0);
    // Every class of request was exercised, and the store holds what the lanes made.
    for (const cls of ['valid', 'near-valid', 'hostile', 'raw']) expect(summary.byClass[cls]?.total).toBeGreaterThan(REQUESTS / 50);
    expect(summary.consistency!.users).toBeGreaterThan(100);
    expect(summary.consistency!.memberships).toBeGreaterThan(100);
  }, 900_000);
});
