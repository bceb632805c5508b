#!/usr/bin/env node
/**
 * Runs SCIM conformance suites this project did not write against a fresh bridge, on demand (`npm run
 * conformance`), never in `npm test`. Each run builds the bundle, starts it on loopback with a new scimsession and an
 * empty SQLite store (SCIM_USERNAME_FORMAT=any, as the suites invent user names), runs the suites, prints passed and
 * failed assertions with the name of each failure, and writes the details under .tools/conformance/.
 *
 *   npm run conformance                              every suite that can run here
 *   npm run conformance -- --suite microsoft         one suite
 *   npm run conformance -- --collection FILE         Microsoft's collection from a file instead of its public URL
 *
 *   npm run conformance -- --python PATH             python-scim's checker with an interpreter that has it already
 *
 * Suites:
 *   microsoft    Microsoft's SCIM reference Postman collection, run with newman (installed on demand by npm exec).
 *   python-scim  python-scim's checker (scim2-tester, from PyPI into a virtual environment under .tools/).
 * Okta's SPEC test (a Runscope test run from Runscope's cloud) and WSO2's suite are not driven from here;
 * CONFORMANCE.md says what runs them.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, '.tools', 'conformance');
const NEWMAN = 'newman@6.2.2';
/** Microsoft's SCIM reference code (github.com/AzureAD/SCIMReferenceCode), the collection its wiki points to. */
const MICROSOFT_COLLECTION_URL = 'https://raw.githubusercontent.com/AzureAD/SCIMReferenceCode/master/PostmanCollection.json';

function argument(name) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

async function startBridge() {
  const bundle = join(ROOT, 'dist', 'scim-bridge.cjs');
  const built = spawnSync(process.execPath, [join(ROOT, 'bridge', 'build.mjs')], { stdio: 'inherit' });
  if (built.status !== 0) throw new Error('the bridge did not build');
  const dir = mkdtempSync(join(tmpdir(), 'scim-conformance-'));
  const created = spawnSync(process.execPath, [bundle, 'session', 'create', '--out', join(dir, 'scimsession'), '--json'], { encoding: 'utf8' });
  if (created.status !== 0) throw new Error(`session create failed: ${created.stderr}`);
  const { token } = JSON.parse(created.stdout);
  const port = await freePort();
  const child = spawn(process.execPath, [bundle, 'serve'], {
    env: {
      ...process.env,
      SCIM_SESSION_FILE: join(dir, 'scimsession'),
      SCIM_DATABASE_URL: `sqlite:${join(dir, 'bridge.db')}`,
      SCIM_USERNAME_FORMAT: 'any',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  // Ready when /health answers 200: bounded to 100 tries, each waiting on the answer or the refusal.
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`the bridge exited with ${child.exitCode}`);
    const ok = await fetch(`${base}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i >= 100) throw new Error('the bridge did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    port,
    token,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function microsoftCollection() {
  const given = argument('collection');
  if (given) return resolve(given);
  mkdirSync(OUT, { recursive: true });
  const cached = join(OUT, 'microsoft-collection.json');
  if (!existsSync(cached)) {
    const response = await fetch(MICROSOFT_COLLECTION_URL);
    if (!response.ok) throw new Error(`fetching ${MICROSOFT_COLLECTION_URL}: HTTP ${response.status}`);
    writeFileSync(cached, await response.text());
  }
  return cached;
}

/** The assertions of a newman JSON report: passed, failed, and each failure's request and test name. */
function readNewmanReport(file) {
  const { run } = JSON.parse(readFileSync(file, 'utf8'));
  const failures = [];
  let passed = 0;
  for (const execution of run.executions) {
    for (const assertion of execution.assertions ?? []) {
      if (assertion.error) failures.push(`${execution.item.name}: ${assertion.assertion} (${assertion.error.message})`);
      else passed++;
    }
  }
  return { passed, failed: failures.length, failures };
}

async function runMicrosoft(bridge) {
  const collection = await microsoftCollection();
  const report = join(OUT, 'microsoft-report.json');
  mkdirSync(OUT, { recursive: true });
  // The collection's "Get Token" folder asks the reference server's own test-token endpoint (/Token), which is no
  // SCIM endpoint, and stores what it answers as the token every later request sends. It is skipped (and reported
  // as not run); the bridge's own token is given as the `token` variable instead.
  const folders = JSON.parse(readFileSync(collection, 'utf8'))
    .item.map((item) => item.name)
    .filter((name) => name !== 'Get Token');
  const result = spawnSync(
    'npm',
    [
      'exec',
      '--yes',
      NEWMAN,
      '--',
      'run',
      collection,
      '--env-var',
      'Protocol=http',
      '--env-var',
      'Server=127.0.0.1',
      '--env-var',
      `Port=:${bridge.port}`,
      '--env-var',
      'Api=scim/v2',
      '--env-var',
      `token=${bridge.token}`,
      ...folders.flatMap((name) => ['--folder', name]),
      '--reporters',
      'cli,json',
      '--reporter-json-export',
      report,
      '--suppress-exit-code',
      '--color',
      'off',
    ],
    { stdio: ['ignore', process.env.CONFORMANCE_VERBOSE ? 'inherit' : 'ignore', 'inherit'], cwd: OUT },
  );
  if (result.status !== 0 || !existsSync(report)) throw new Error('newman did not run (it is installed from the npm registry on demand)');
  return { ...readNewmanReport(report), notRun: ["Get Token (the reference server's private /Token endpoint)"] };
}

/**
 * python-scim's checker (scim2-tester): installed from PyPI into a virtual environment under .tools/ on first use, or
 * taken from `--python PATH` (an interpreter that already imports scim2_tester, e.g. where PyPI is out of reach).
 */
function pythonWithScimTester() {
  const given = argument('python');
  if (given) return given;
  const venv = join(OUT, 'python-scim');
  const python = join(venv, 'bin', 'python');
  if (!existsSync(python)) {
    const steps = [
      ['python3', ['-m', 'venv', venv]],
      [python, ['-m', 'pip', 'install', '--quiet', SCIM2_TESTER]],
    ];
    for (const [command, args] of steps) {
      const step = spawnSync(command, args, { stdio: 'inherit' });
      if (step.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (python-scim's checker comes from PyPI; or pass --python)`);
    }
  }
  return python;
}

const SCIM2_TESTER = 'scim2-tester[httpx]==0.2.8';

async function runPythonScim(bridge) {
  const python = pythonWithScimTester();
  const run = spawnSync(python, ['-c', 'from scim2_tester.cli import cli; cli()', `${bridge.base}/scim/v2`, '--token', bridge.token], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`scim2-tester failed: ${run.stderr.split('\n').filter(Boolean).slice(-3).join(' | ')}`);
  writeFileSync(join(OUT, 'python-scim-report.txt'), run.stdout);
  // One line per check, "STATUS title [ResourceType]", then indented reasons.
  let passed = 0;
  const failures = [];
  const lines = run.stdout.split('\n');
  lines.forEach((line, i) => {
    const status = /^(SUCCESS|ERROR|CRITICAL|WARNING|SKIPPED) (.*)$/.exec(line);
    if (!status) return;
    if (status[1] === 'SUCCESS') passed++;
    else if (status[1] === 'ERROR' || status[1] === 'CRITICAL') failures.push(`${status[2]}: ${(lines[i + 1] ?? '').trim()}`);
  });
  return { passed, failed: failures.length, failures };
}

const SUITES = { microsoft: runMicrosoft, 'python-scim': runPythonScim };

async function main() {
  const only = argument('suite');
  const names = only ? [only] : Object.keys(SUITES);
  for (const name of names)
    if (!SUITES[name]) throw new Error(`unknown suite "${name}"; known: ${Object.keys(SUITES).join(', ')} (see CONFORMANCE.md for the others)`);
  const results = {};
  for (const name of names) {
    const bridge = await startBridge(); // a fresh, empty bridge per suite: suites assume they start from nothing
    try {
      results[name] = await SUITES[name](bridge);
    } finally {
      await bridge.stop();
    }
  }
  for (const [name, r] of Object.entries(results)) {
    console.log(`\n${name}: ${r.passed} passed, ${r.failed} failed${r.notRun?.length ? `; not run: ${r.notRun.join(', ')}` : ''}`);
    for (const failure of r.failures) console.log(`  - ${failure}`);
  }
  writeFileSync(join(OUT, 'summary.json'), JSON.stringify(results, null, 2));
}

main().catch((error) => {
  console.error(`conformance: ${error.message}`);
  process.exit(1);
});
