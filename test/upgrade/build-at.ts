/**
 * Builds the bridge bundle as it was at a git commit (git archive of that commit's bridge/ and contract/, bundled
 * by esbuild with this tree's installed dependencies), for tests and benchmarks that run an older release beside
 * the current one.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

/** Whether git history is here to build from (a clean clone has it; an exported tarball does not). */
export function gitCommit(ref: string): string | undefined {
  try {
    return (
      execFileSync('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

/** Bundles the bridge whose sources are under `sourceRoot` (bridge/src, contract) as bridge/build.mjs does. */
export async function bundleBridge(sourceRoot: string, outfile: string, options: { minify?: boolean; version?: string } = {}): Promise<void> {
  const esbuild = require(join(ROOT, 'bridge', 'node_modules', 'esbuild')) as typeof import('esbuild');
  await esbuild.build({
    entryPoints: [join(sourceRoot, 'bridge', 'src', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: options.minify ?? true,
    ...(options.version ? { define: { 'process.env.SCIM_BRIDGE_VERSION': JSON.stringify(options.version) } } : {}),
    external: ['pg-native'],
    // An older checkout has no node_modules of its own: it resolves this tree's.
    nodePaths: [join(ROOT, 'bridge', 'node_modules')],
    logLevel: 'error',
  });
}

/** Extracts bridge/src and contract of `commit` into a new temporary directory. */
export function checkout(commit: string): string {
  const source = mkdtempSync(join(tmpdir(), `scim-bridge-src-${commit.slice(0, 12)}-`));
  execFileSync('sh', ['-c', `git archive ${commit} bridge/src contract | tar -x -C '${source}'`], { cwd: ROOT, stdio: 'ignore' });
  return source;
}

/** Returns the path of a bundle built from `commit`; built once per commit into the system's temp directory. */
export async function buildBridgeAt(commit: string): Promise<string> {
  const base = join(tmpdir(), 'scim-bridge-builds');
  mkdirSync(base, { recursive: true });
  const outfile = join(base, `${commit}.cjs`);
  if (existsSync(outfile)) return outfile;
  const source = checkout(commit);
  const temp = `${outfile}.${process.pid}.tmp`;
  try {
    await bundleBridge(source, temp, { version: `git-${commit.slice(0, 12)}` });
    renameSync(temp, outfile);
  } finally {
    rmSync(source, { recursive: true, force: true });
  }
  return outfile;
}
