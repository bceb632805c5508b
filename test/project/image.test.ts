/**
 * bridge/Dockerfile and .dockerignore as Docker reads them: the build context is what .dockerignore lets through
 * (moby's patternmatcher rules: last match wins, `!` re-includes, a pattern matching a parent directory matches what is
 * under it, `**` spans directories), every path the Dockerfile copies survives it, and the build stage, run on that
 * context alone with the bridge's own dependencies, produces what the final stage copies.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { BRIDGE_IMAGE } from '../../contract';

const ROOT = join(__dirname, '..', '..');
const dockerfile = readFileSync(join(ROOT, BRIDGE_IMAGE.dockerfile), 'utf8');
const ignoreLines = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

interface Pattern {
  readonly exclusion: boolean;
  readonly regex: RegExp;
}

/** A .dockerignore line as moby compiles it (patternmatcher.go: Clean, leading / dropped, `**`, `*`, `?`). */
function compile(line: string): Pattern {
  const exclusion = line.startsWith('!');
  let p = posix.normalize(exclusion ? line.slice(1) : line).replace(/\/+$/, '');
  if (p.length > 1 && p.startsWith('/')) p = p.slice(1);
  let re = '^';
  for (let i = 0; i < p.length; i++) {
    const ch = p[i];
    if (ch === '*' && p[i + 1] === '*') {
      i++;
      if (p[i + 1] === '/') i++;
      re += i + 1 >= p.length ? '.*' : '(.*/)?';
    } else if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return { exclusion, regex: new RegExp(`${re}$`) };
}

const patterns = ignoreLines.map(compile);

/** True when Docker leaves `file` out of the context (patternmatcher MatchesOrParentMatches). */
function ignored(file: string): boolean {
  const parents = posix.dirname(file) === '.' ? [] : posix.dirname(file).split('/');
  let matched = false;
  for (const pattern of patterns) {
    if (pattern.exclusion !== matched) continue;
    let match = pattern.regex.test(file);
    for (let i = 0; !match && i < parents.length; i++) match = pattern.regex.test(parents.slice(0, i + 1).join('/'));
    if (match) matched = !pattern.exclusion;
  }
  return matched;
}

/** The repository's files as a build would see them (tracked and untracked, not what git itself ignores). */
const repoFiles = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f && existsSync(join(ROOT, f)));
const context = repoFiles.filter((f) => !ignored(f));

interface Stage {
  readonly from: string;
  readonly lines: string[];
}

/** The Dockerfile's stages, with line continuations joined. */
function stages(): Stage[] {
  const out: Stage[] = [];
  for (const line of dockerfile
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())) {
    if (line.startsWith('FROM ')) out.push({ from: line, lines: [] });
    else if (out.length && line && !line.startsWith('#')) out[out.length - 1].lines.push(line);
  }
  return out;
}

/** `COPY [--flags] src... dest` of a stage, from the context (no --from). */
function contextCopies(stage: Stage): { sources: string[]; dest: string }[] {
  return stage.lines
    .filter((l) => l.startsWith('COPY ') && !/--from=/.test(l))
    .map((l) => {
      const words = l
        .split(/\s+/)
        .slice(1)
        .filter((w) => !w.startsWith('--'));
      return { sources: words.slice(0, -1), dest: words[words.length - 1] };
    });
}

describe('.dockerignore', () => {
  test('follows Docker matching rules (checked on the rules themselves)', () => {
    expect(compile('bridge/**/*.md').regex.test('bridge/README.md')).toBe(true);
    expect(compile('bridge/**/*.md').regex.test('bridge/src/x/notes.md')).toBe(true);
    expect(compile('*').regex.test('bridge')).toBe(true);
    expect(compile('*').regex.test('bridge/src')).toBe(false);
    expect(compile('!bridge/')).toEqual({ exclusion: true, regex: /^bridge$/ });
  });

  test('is the contract list (BRIDGE_IMAGE.contextPatterns), line for line', () => {
    expect(ignoreLines).toEqual([...BRIDGE_IMAGE.contextPatterns]);
  });

  test('the context holds the bridge and the contract only: no docs, stacks, tests, stack files, kit dependencies or secrets', () => {
    expect(context.length).toBeGreaterThan(10);
    expect(context.filter((f) => !f.startsWith('bridge/') && !f.startsWith('contract/'))).toEqual([]);
    for (const f of [
      'README.md',
      'package.json',
      'package-lock.json',
      'Pulumi.yaml',
      'Pulumi.gcp.yaml',
      'docs/gcp.md',
      'stacks/pulumi/index.ts',
      'test/gcp/stack.test.ts',
      'cdk.json',
    ]) {
      expect([f, ignored(f)]).toEqual([f, true]);
    }
    for (const f of [
      'node_modules/@pulumi/gcp/index.js',
      'bridge/node_modules/pg/package.json',
      'bridge/README.md',
      '.env',
      'scimsession',
      'dist/scim-bridge.cjs',
    ]) {
      expect([f, ignored(f)]).toEqual([f, true]);
    }
  });
});

describe('bridge/Dockerfile', () => {
  const [build, final] = stages();

  test('two stages; every base image pinned by digest', () => {
    expect(stages()).toHaveLength(2);
    const arg = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    expect(arg).toMatch(/^node:\d+[-\w.]*@sha256:[0-9a-f]{64}$/);
    for (const { from } of stages()) expect(from).toMatch(/\$\{NODE_IMAGE\}|@sha256:[0-9a-f]{64}/);
  });

  test('the build stage runs on the builder own platform (the bundle is plain JavaScript); the final stage on the target', () => {
    expect(build.from).toMatch(/^FROM --platform=\$BUILDPLATFORM \$\{NODE_IMAGE\} AS build$/);
    expect(final.from).not.toMatch(/--platform/);
  });

  test('the build stage installs the bridge dependencies only (its own lock file, no scripts), never the kit', () => {
    const copies = contextCopies(build);
    expect(copies[0]).toEqual({ sources: ['bridge/package.json', 'bridge/package-lock.json'], dest: 'bridge/' });
    expect(build.lines.find((l) => l.startsWith('RUN npm'))).toMatch(/^RUN npm ci --prefix bridge --ignore-scripts\b/);
    const sources = copies.flatMap((c) => c.sources);
    expect(sources).not.toContain('package.json');
    expect(sources).not.toContain('.');
  });

  test('every path the Dockerfile copies survives .dockerignore', () => {
    for (const { sources } of contextCopies(build)) {
      for (const source of sources) expect([source, context.some((f) => f === source || f.startsWith(`${source}/`))]).toEqual([source, true]);
    }
  });

  test('the runtime runs as the unprivileged user with no package manager', () => {
    expect(final.lines).toContain(`USER ${BRIDGE_IMAGE.uid}:${BRIDGE_IMAGE.gid}`);
    expect(final.lines.join('\n')).toMatch(/rm -rf \/usr\/local\/lib\/node_modules\/npm/);
  });

  test('the build stage, run on the context alone (with the bridge dependencies npm ci installs), makes what the final stage copies', () => {
    const work = mkdtempSync('/tmp/scim-bridge-context-');
    try {
      for (const { sources, dest } of contextCopies(build)) {
        for (const source of sources) {
          for (const f of context.filter((c) => c === source || c.startsWith(`${source}/`))) {
            const target = dest.endsWith('/') && f === source ? join(work, dest, posix.basename(f)) : join(work, dest, f.slice(source.length));
            mkdirSync(dirname(target), { recursive: true });
            cpSync(join(ROOT, f), target);
          }
        }
      }
      // What `npm ci --prefix bridge` leaves: the bridge's own dependencies.
      symlinkSync(join(ROOT, 'bridge', 'node_modules'), join(work, 'bridge', 'node_modules'));
      const run = build.lines.filter((l) => l.startsWith('RUN ') && !l.startsWith('RUN npm')).map((l) => l.slice(4));
      expect(run).toEqual(['node bridge/build.mjs']);
      execFileSync(process.execPath, ['bridge/build.mjs'], { cwd: work, stdio: 'pipe' });
      for (const line of final.lines.filter((l) => l.startsWith('COPY --from=build'))) {
        const source = line.split(/\s+/)[2].replace(/^\/src\//, '');
        expect([source, existsSync(join(work, source))]).toEqual([source, true]);
      }
      expect(execFileSync(process.execPath, [join(work, 'dist', 'scim-bridge.cjs'), '--help'], { encoding: 'utf8' })).toContain('scim-bridge');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('constructs/pulumi/image.ts (the image every Pulumi cloud runs)', () => {
  const mocks = {
    cloud: 'test',
    computed: (_t: string, name: string, v: Record<string, unknown>) => ({ id: name, outputs: { ref: `${(v.tags as string[])[0]}@sha256:${'1'.repeat(64)}` } }),
    answer: () => ({}),
  };
  const { runPulumiProgram } = require('../support/pulumi-harness') as typeof import('../support/pulumi-harness');
  const registry = { address: 'registry.example.com', username: 'u', password: 'p' };

  test('with an image given nothing is built and no registry credentials are asked for', async () => {
    let asked = false;
    const run = await runPulumiProgram(mocks, { config: {}, secretKeys: [] }, () => {
      const { bridgeImageRef } = require('../../constructs/pulumi');
      const image = bridgeImageRef(
        'img',
        'ghcr.io/acme/scim-bridge:1.2.3',
        () => {
          asked = true;
          return { tag: 'x', registry };
        },
        {},
      );
      return { ref: image.ref };
    });
    expect(run.resources).toEqual([]);
    expect(asked).toBe(false);
    expect(run.outputs.ref).toBe('ghcr.io/acme/scim-bridge:1.2.3');
  });

  // pulumi-docker-build provider/internal/image.go Create: a dry run with buildOnPreview false returns before the
  // build, so `pulumi preview` needs no BuildKit daemon (its default, true, does).
  test('otherwise bridge/Dockerfile is built from the repository root for linux/amd64, never on a preview, run by digest', async () => {
    const run = await runPulumiProgram(mocks, { config: {}, secretKeys: [] }, () => {
      const { bridgeImageRef } = require('../../constructs/pulumi');
      return { ref: bridgeImageRef('img', undefined, () => ({ tag: 'registry.example.com/scim-bridge:latest', registry }), {}).ref };
    });
    const image = run.one('docker-build:index:Image');
    expect(image.inputs).toMatchObject({
      buildOnPreview: false,
      push: true,
      platforms: ['linux/amd64'],
      context: { location: ROOT },
      dockerfile: { location: join(ROOT, BRIDGE_IMAGE.dockerfile) },
    });
    expect(run.outputs.ref).toBe(`registry.example.com/scim-bridge:latest@sha256:${'1'.repeat(64)}`);
  });
});

describe('the image HEALTHCHECK', () => {
  const { execFile } = require('node:child_process') as typeof import('node:child_process');
  const { startBridge } = require('../support/bridge') as typeof import('../support/bridge');
  const { createPki } = require('../doctor/pki') as typeof import('../doctor/pki');
  const command = JSON.parse(/^HEALTHCHECK .* CMD (\[.*\])$/m.exec(dockerfile)![1]) as string[];

  /** Runs the check as Docker would, in the container's environment; resolves its exit code. */
  const check = (env: Record<string, string>) =>
    new Promise<number>((resolve) => {
      const child = execFile(process.execPath, command.slice(1), { env: { PATH: process.env.PATH, ...env }, timeout: 10_000 });
      child.on('exit', (code) => resolve(code ?? -1));
    });

  test('runs node on /ping', () => {
    expect(command[0]).toBe('node');
    expect(command.join(' ')).toContain('/ping');
  });

  test('passes whether the bridge serves HTTP or HTTPS itself, and fails when nothing answers', async () => {
    const pki = createPki();
    const leaf = pki.issue('public', { hosts: ['scim.example.com'] });
    const tlsEnv = { SCIM_TLS_CERT_FILE: leaf.cert, SCIM_TLS_KEY_FILE: leaf.key };
    const plain = await startBridge();
    const secure = await startBridge({ env: tlsEnv });
    try {
      expect(secure.url).toMatch(/^https:/);
      const port = (url: string) => new URL(url).port;
      expect(await check({ PORT: port(plain.url) })).toBe(0);
      expect(await check({ PORT: port(secure.url), ...tlsEnv })).toBe(0);
      // The check follows the container's own configuration: plain HTTP to an HTTPS port is not an answer.
      expect(await check({ PORT: port(secure.url) })).not.toBe(0);
    } finally {
      await plain.stop();
      await secure.stop();
      pki.cleanup();
    }
    expect(await check({ PORT: '1' })).not.toBe(0);
  }, 30_000);
});
