/**
 * The bridge's HTTP edge on loopback with any AppOptions (short timeouts, small bounds), its log lines captured,
 * plus raw-socket helpers: for tests, and for scripts that attack the edge (fuzzing, slow clients).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Directory } from '../../bridge/src/directory/directory';
import type { ProvisioningRules } from '../../bridge/src/directory/rules';
import { type AppOptions, buildApp } from '../../bridge/src/http/app';
import { BridgeMetrics, instrumentStore } from '../../bridge/src/ops/metrics';
import type { Scope } from '../../bridge/src/feed/types';
import { addToken, createSession, serializeSession } from '../../bridge/src/session/scimsession';
import { SessionHolder, inlineSource } from '../../bridge/src/session/source';
import { openStore } from '../../bridge/src/store/open';
import type { Store } from '../../bridge/src/store/types';
import { freshDatabase } from './postgres';
import type { StoreKind } from './bridge';

export interface TestEdge {
  readonly url: string;
  readonly scim: string;
  /** A provision token (what identity providers hold). */
  readonly token: string;
  /** A token of each scope, when started with `scopedTokens` (else only `provision`). */
  readonly tokens: Partial<Record<Scope, string>>;
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly databaseUrl: string;
  readonly metrics: BridgeMetrics;
  /** Every JSON log line written so far. */
  readonly logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

export interface EdgeOptions extends Partial<Omit<AppOptions, 'directory' | 'store' | 'session' | 'version'>> {
  readonly store?: StoreKind;
  readonly rules?: ProvisioningRules;
  /** Also accept a read and an operate token (`tokens`). */
  readonly scopedTokens?: boolean;
  /** Use this database (a second replica of another edge's) instead of a fresh one. */
  readonly databaseUrl?: string;
}

export async function startEdge(options: EdgeOptions = {}): Promise<TestEdge> {
  const dir = mkdtempSync(join(tmpdir(), 'scim-edge-'));
  const databaseUrl = options.databaseUrl ?? (options.store === 'postgres' ? await freshDatabase() : `sqlite:${join(dir, 'bridge.db')}`);
  const metrics = new BridgeMetrics();
  const store = instrumentStore(await openStore(databaseUrl), metrics);
  await store.migrate();
  const created = createSession();
  let session = created.session;
  const token = created.token;
  const tokens: Partial<Record<Scope, string>> = { provision: token };
  for (const scope of options.scopedTokens ? (['read', 'operate'] as const) : []) {
    const added = addToken(session, { scope });
    session = added.session;
    tokens[scope] = added.token;
  }
  const holder = new SessionHolder(inlineSource(serializeSession(session)));
  await holder.start();
  const logs: Record<string, unknown>[] = [];
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) logs.push(JSON.parse(line));
      done();
    },
  });
  const app = buildApp({
    logLevel: 'info',
    logStream,
    ...options,
    directory: new Directory(store, options.rules ?? { allowedDomains: [] }),
    store,
    session: holder,
    version: 'test',
    metrics,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    scim: `${url}/scim/v2`,
    token,
    tokens,
    app,
    store,
    databaseUrl,
    metrics,
    logs,
    async stop() {
      holder.stop();
      app.server.closeAllConnections();
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RawExchange {
  /** Everything the server sent. */
  readonly text: string;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** How the exchange ended: the server closed, the client gave up, or the socket failed. */
  readonly ended: 'closed' | 'timeout' | 'error';
  readonly error?: string;
}

/**
 * Sends `head` (and then `body`, if any) over a plain socket and collects what comes back until the server closes
 * or `waitMs` passes. For what fetch cannot send: a body that never comes, headers that never end, bad URLs.
 */
export function rawRequest(url: string, head: string, options: { body?: string | Buffer; waitMs?: number } = {}): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (ended: RawExchange['ended'], error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const lines = (split < 0 ? text : text.slice(0, split)).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ text, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), headers, body: split < 0 ? '' : text.slice(split + 4), ended, error });
    };
    const timer = setTimeout(() => finish('timeout'), options.waitMs ?? 10_000);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('close', () => finish('closed'));
    socket.on('error', (error: NodeJS.ErrnoException) => finish('error', error.code));
    socket.write(head);
    if (options.body !== undefined) socket.write(options.body);
  });
}
