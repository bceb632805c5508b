/**
 * `npm run faults`: the fault tests (the same ones CI runs) with their figures recorded, rendered as the table in
 * BENCHMARKS.md: for each fault, the answers clients got by status, writes acknowledged and lost, and how the
 * bridge ended. PostgreSQL rows need SCIM_TEST_POSTGRES_URL (`source .ci/postgres.sh`); the disk-full rows need
 * permission to mount a tmpfs (root). Writes bench/results/faults.{jsonl,md}; exits with jest's status.
 *
 *   [SCIM_TEST_FREEZE_MS=20000] npm run faults   (a longer PostgreSQL freeze: past the query timeout)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './lib';

const SUITES = [
  'test/multiprocess/faults.test.ts',
  'test/multiprocess/feed-faults.test.ts',
  'test/multiprocess/sigterm-burst.test.ts',
  'test/multiprocess/hung-database.test.ts',
  'test/store/full.test.ts',
  'test/session/corrupt-under-load.test.ts',
  'test/http/slow-reader.test.ts',
];

const results = join(ROOT, 'bench', 'results');
mkdirSync(results, { recursive: true });
const figures = join(results, 'faults.jsonl');
rmSync(figures, { force: true });

const jest = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), '--runInBand', ...SUITES], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, SCIM_TEST_FIGURES: figures },
});

const rows = existsSync(figures)
  ? readFileSync(figures, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
  : [];
const show = (value: unknown): string =>
  value === undefined
    ? ''
    : typeof value === 'object' && value !== null
      ? Object.entries(value)
          .map(([k, v]) => (typeof v === 'object' ? `${k}: ${show(v)}` : `${k}: ${Number(v).toLocaleString('en')}`))
          .join(', ')
      : String(value);
const lines = [
  '| fault | answers by status (0: no answer) | acknowledged / lost | other | the bridge |',
  '|---|---|---|---|---|',
  ...rows.map(({ fault, answers, acknowledged, lost, exit, ...rest }) => {
    const other = Object.entries(rest)
      .map(([k, v]) => `${k}: ${show(v)}`)
      .join('; ');
    return `| ${fault} | ${show(answers)} | ${acknowledged === undefined ? '' : `${acknowledged} / ${lost}`} | ${other} | ${exit === 'still running' ? 'kept serving' : `exit ${exit}`} |`;
  }),
];
writeFileSync(join(results, 'faults.md'), `${lines.join('\n')}\n`);
process.stdout.write(`\n${lines.join('\n')}\n`);
process.exit(jest.status ?? 1);
