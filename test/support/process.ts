/** The bundled bridge (dist/scim-bridge.cjs, built by test/global-setup.js) as a real child process. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const BUNDLE = join(__dirname, '..', '..', 'dist', 'scim-bridge.cjs');

export interface BridgeProcess {
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

/** A loopback port free right now (a fixed range collided with other processes on a shared machine). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts `bundle` (the current one unless another build is given, e.g. an older release's) and waits for /ping. */
export async function spawnBridge(env: Record<string, string>, timeoutMs = 15_000, bundle = BUNDLE): Promise<BridgeProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [bundle, 'serve'], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`bridge exited early: ${output}`);
    try {
      if ((await fetch(`${url}/ping`)).ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`bridge did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return { url, child, output: () => output, exited };
}
