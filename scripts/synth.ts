/**
 * `npm run synth`: everything a reviewer can check without cloud credentials, in one command.
 *   1. the AWS template: `cdk synth --quiet` (cdk-nag runs inside the app; the CDK's own validation too);
 *   2. the type check of the whole kit (`tsc --noEmit`);
 *   3. an offline preview of every Pulumi stack with a stack file here (Pulumi.<stack>.yaml): its configuration read
 *      as the CLI reads it, stacks/pulumi run under mocks, the resources it would create printed as a table
 *      (scripts/pulumi-preview.ts; one process per stack, the Pulumi runtime being one per process).
 * Exits 1 when any step fails, after running them all.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const TSX = require.resolve('tsx/cli');

interface Outcome {
  readonly step: string;
  readonly ok: boolean;
  readonly output: string;
  readonly seconds: number;
}

function run(step: string, command: string, args: string[]): Promise<Outcome> {
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', (error) => done({ step, ok: false, output: `${output}${error.message}\n`, seconds: (Date.now() - started) / 1000 }));
    child.once('close', (code) => done({ step, ok: code === 0, output, seconds: (Date.now() - started) / 1000 }));
  });
}

/** The stacks with a stack file beside Pulumi.yaml, as `pulumi stack ls` would name them. */
export function stackFiles(root = ROOT): string[] {
  return readdirSync(root)
    .map((file) => /^Pulumi\.(.+)\.ya?ml$/.exec(file)?.[1])
    .filter((stack): stack is string => stack !== undefined)
    .sort();
}

async function inPairs<T, R>(items: T[], work: (item: T) => Promise<R>): Promise<R[]> {
  // Two at a time: the machines have two cores, and each preview loads a cloud SDK.
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    [0, 1].map(async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]);
      }
    }),
  );
  return results;
}

async function main(): Promise<void> {
  const outcomes: Outcome[] = [];
  const report = (outcome: Outcome, showOutput: boolean) => {
    process.stdout.write(`${outcome.ok ? 'ok  ' : 'FAIL'}  ${outcome.step} (${outcome.seconds.toFixed(1)} s)\n`);
    if (showOutput || !outcome.ok) process.stdout.write(`${outcome.output.replace(/^/gm, '      ').replace(/\s+$/, '')}\n`);
    outcomes.push(outcome);
  };

  const cdk = run('AWS: cdk synth --quiet', process.execPath, [require.resolve('aws-cdk/bin/cdk'), 'synth', '--quiet']);
  const tsc = run('type check: tsc --noEmit', process.execPath, [require.resolve('typescript/bin/tsc'), '--noEmit', '-p', 'tsconfig.json']);
  report(await cdk, false);
  report(await tsc, false);
  const stacks = stackFiles();
  if (stacks.length === 0) report({ step: 'Pulumi: no Pulumi.<stack>.yaml files', ok: false, output: '', seconds: 0 }, false);
  const previews = await inPairs(stacks, (stack) =>
    run(`Pulumi: preview of stack ${stack} (offline, mocks)`, process.execPath, [TSX, join('scripts', 'pulumi-preview.ts'), stack]),
  );
  for (const preview of previews) report(preview, true);

  const failed = outcomes.filter((o) => !o.ok);
  process.stdout.write(failed.length ? `\n${failed.length} of ${outcomes.length} steps failed\n` : `\nall ${outcomes.length} steps passed\n`);
  process.exitCode = failed.length ? 1 : 0;
}

if (require.main === module) void main();
