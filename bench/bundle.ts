/**
 * The bundled bridge (dist/scim-bridge.cjs) as its own process, as deployed, for the fuzzer and the soak: a fresh
 * scimsession, a free loopback port, its error-level log lines collected, its resident memory readable.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createSession, serializeSession } from '../bridge/src/session/scimsession';
import { freePorts } from './lib';

export function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

export interface BundledBridge {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  readonly token: string;
  readonly errorLines: string[];
  exited: number | string | null;
  stop(): Promise<number | string>;
}

export async function startBundle(databaseUrl: string, bundle: string, env: Record<string, string> = {}): Promise<BundledBridge> {
  const { session, token } = createSession();
  const port = await freePorts();
  const child = spawn(process.execPath, [bundle, 'serve'], {
    env: {
      PATH: process.env.PATH,
      SCIM_SESSION: serializeSession(session),
      SCIM_DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const errorLines: string[] = [];
  let pending = '';
  const onOutput = (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      if (!line.trim()) continue;
      let level = 0;
      try {
        level = Number(JSON.parse(line).level) || 0;
      } catch {
        level = 50; // not a JSON log line: a crash trace or a stray write
      }
      if (level >= 50 && errorLines.length < 200) errorLines.push(line.slice(0, 2000));
    }
  };
  child.stdout!.on('data', onOutput);
  child.stderr!.on('data', onOutput);
  const exit = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const bridge: BundledBridge = {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    token,
    errorLines,
    exited: null,
    stop: async () => {
      if (bridge.exited === null) child.kill('SIGTERM');
      return exit;
    },
  };
  exit.then((code) => (bridge.exited = code));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (bridge.exited !== null) throw new Error(`the bridge exited at start (${bridge.exited}): ${errorLines.join('\n')}`);
    try {
      if ((await fetch(`${bridge.url}/health`)).status === 200) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error('the bridge did not become healthy in 30 s');
    await new Promise((r) => setTimeout(r, 20));
  }
  return bridge;
}
