/**
 * Following a scimsession file without timing assumptions: the holder says when it reloaded (an event), picks a
 * change up from a directory watcher long before its poll (a plain rewrite, and the symlink swap Kubernetes secret
 * mounts do), still polls where no watcher works, and keeps the last good scimsession when the file turns to
 * garbage, logging a warning that never holds the contents.
 */
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { serve } from '../../bridge/src/server';
import { createSession, serializeSession } from '../../bridge/src/session/scimsession';
import { SessionHolder, fileSource } from '../../bridge/src/session/source';

/** A poll interval no test waits for: a reload seen here came from the watcher. */
const NEVER = 3_600_000;

describe('SessionHolder following a file', () => {
  let dir: string;
  const holders: SessionHolder[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'scim-reload-'));
  });
  afterEach(() => {
    for (const holder of holders.splice(0)) holder.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const follow = async (path: string, pollMs = NEVER, watch = true) => {
    const source = fileSource(path, pollMs);
    const holder = new SessionHolder(watch ? source : { ...source, watch: undefined });
    holders.push(holder);
    await holder.start();
    return holder;
  };

  it('reloads a rewritten file from the directory watcher and emits reload with the token count', async () => {
    const file = join(dir, 'scimsession');
    const first = createSession();
    writeFileSync(file, serializeSession(first.session));
    const holder = await follow(file);
    expect(holder.verify(first.token)).toBe('provision');

    const second = createSession();
    const reloaded = once(holder, 'reload');
    writeFileSync(file, serializeSession(second.session));
    expect(await reloaded).toEqual([1]);
    expect(holder.verify(second.token)).toBe('provision');
    expect(holder.verify(first.token)).toBeUndefined();
  });

  it('follows a Kubernetes-style secret mount, where the ..data symlink is swapped', async () => {
    const mount = join(dir, 'mount');
    mkdirSync(join(mount, '..2026_01'), { recursive: true });
    const first = createSession();
    writeFileSync(join(mount, '..2026_01', 'scimsession'), serializeSession(first.session));
    symlinkSync('..2026_01', join(mount, '..data'));
    symlinkSync(join('..data', 'scimsession'), join(mount, 'scimsession'));
    const holder = await follow(join(mount, 'scimsession'));
    expect(holder.verify(first.token)).toBe('provision');

    // What the kubelet does: a new timestamped directory, a new ..data link beside it, renamed over the old one.
    const second = createSession();
    mkdirSync(join(mount, '..2026_02'));
    writeFileSync(join(mount, '..2026_02', 'scimsession'), serializeSession(second.session));
    symlinkSync('..2026_02', join(mount, '..data_tmp'));
    const reloaded = once(holder, 'reload');
    renameSync(join(mount, '..data_tmp'), join(mount, '..data'));
    await reloaded;
    expect(holder.verify(second.token)).toBe('provision');
  });

  it('still picks a change up by polling where no watcher is available', async () => {
    const file = join(dir, 'scimsession');
    writeFileSync(file, serializeSession(createSession().session));
    const holder = await follow(file, 50, false);
    const next = createSession();
    const reloaded = once(holder, 'reload');
    writeFileSync(file, serializeSession(next.session));
    await reloaded;
    expect(holder.verify(next.token)).toBe('provision');
  });

  it('keeps the last good scimsession when the file turns to garbage, and reports it once, without the contents', async () => {
    const file = join(dir, 'scimsession');
    const good = createSession();
    writeFileSync(file, serializeSession(good.session));
    const holder = await follow(file);
    const errors: Error[] = [];
    holder.on('reloadError', (error) => errors.push(error));

    const garbage = `{"format":"scim-bridge/scimsession","version":1,"verifiers":[{"hash":"SECRET-HASH-${good.token}"`;
    const failed = once(holder, 'reloadError');
    writeFileSync(file, garbage);
    await failed;
    // The same garbage again (the next poll) is not reported again.
    await holder.check();
    await holder.check();
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toBe('the scimsession is not valid JSON');
    expect(errors[0].message).not.toContain('SECRET');
    expect(holder.verify(good.token)).toBe('provision');
    expect(holder.loaded).toBe(true);

    // A good file afterwards is taken, and garbage after that is reported again.
    const next = createSession();
    const reloaded = once(holder, 'reload');
    writeFileSync(file, serializeSession(next.session));
    await reloaded;
    expect(holder.verify(next.token)).toBe('provision');
    const failedAgain = once(holder, 'reloadError');
    writeFileSync(file, 'garbage');
    await failedAgain;
    expect(errors).toHaveLength(2);
    expect(holder.verify(next.token)).toBe('provision');
  });
});

describe('a running bridge whose scimsession file is corrupted', () => {
  it('keeps answering with the last good token and logs a warning without the contents', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scim-corrupt-'));
    const file = join(dir, 'scimsession');
    const { session, token } = createSession();
    writeFileSync(file, serializeSession(session));
    const lines: Record<string, unknown>[] = [];
    const logStream = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line));
        done();
      },
    });
    const running = await serve({
      env: { SCIM_SESSION_FILE: file, SCIM_DATABASE_URL: `sqlite:${join(dir, 'bridge.db')}`, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
      print: () => undefined,
      logStream,
    });
    try {
      const url = running.url.replace('localhost', '127.0.0.1');
      const failed = once(running.session, 'reloadError');
      const garbage = `not a session at all ${token} ${session.verifiers[0].hash}`;
      writeFileSync(file, garbage);
      await failed;
      expect((await fetch(`${url}/scim/v2/Users`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      expect((await fetch(`${url}/health`)).status).toBe(200);
      const warning = lines.find((l) => l.msg === 'scimsession reload failed; keeping the last good one');
      expect(warning).toMatchObject({ level: 40, source: `file ${file}`, reason: 'the scimsession is neither JSON nor base64-encoded JSON' });
      const logged = JSON.stringify(lines);
      expect(logged).not.toContain(token);
      expect(logged).not.toContain(session.verifiers[0].hash);
      expect(logged).not.toContain('not a session at all');
    } finally {
      await running.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
