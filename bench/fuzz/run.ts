/**
 * The fuzz run: the bundled bridge (dist/scim-bridge.cjs) in its own process on a fresh store, a few client lanes
 * sending generated requests over loopback, every answer checked as it arrives, the process watched (alive, RSS,
 * error log lines), then the store checked for consistency. Bounded by a request count and a time limit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rssOf, startBundle } from '../bundle';
import { BUNDLE, freshPostgres } from '../lib';
import { type Case, type RequestClass, describeCase, preview } from './case';
import { type ConsistencyReport, checkDatabase, checkOverHttp } from './consistency';
import { type Exchange, keepAliveAgent, sendHttp, sendRaw } from './http';
import { DEFAULT_MIX, ERROR_SCHEMA, Lane } from './lane';
import type { Acknowledged } from './model';

export type FuzzStore = 'sqlite' | 'postgres';

export interface FuzzOptions {
  readonly seed: string;
  readonly requests: number;
  readonly store: FuzzStore;
  /** Concurrent client lanes. @default 4 */
  readonly clients?: number;
  /** Stop after this long even if fewer requests were sent. @default 3600 */
  readonly seconds?: number;
  /** Requests that take long by design (12 MiB bodies) and slow-loris connections held until the bridge's 408. */
  readonly heavy?: boolean;
  readonly mix?: Readonly<Record<RequestClass, number>>;
  readonly bundle?: string;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

export interface Violation {
  readonly lane: number;
  /** The request's index in its lane's stream (replay with the same seed). */
  readonly index: number;
  readonly cls: RequestClass;
  readonly kind: string;
  readonly request: string;
  readonly status: number;
  readonly answer: string;
  readonly problem: string;
}

interface Tally {
  total: number;
  statuses: Record<string, number>;
}

export interface FuzzSummary {
  readonly seed: string;
  readonly store: FuzzStore;
  readonly clients: number;
  readonly requested: number;
  readonly sent: number;
  readonly durationSeconds: number;
  readonly requestsPerSecond: number;
  readonly byClass: Record<string, Tally & { p50Ms: number; p99Ms: number; maxMs: number }>;
  readonly byKind: Record<string, Tally>;
  /** Every 5xx seen, by status (503/507 only with Retry-After count as the store's own faults). */
  readonly serverErrors: Record<string, number>;
  readonly noAnswer: number;
  readonly rssMb: { readonly start: number; readonly end: number; readonly max: number };
  readonly bridgeExit: number | string | null;
  readonly errorLogLines: number;
  readonly violations: number;
  readonly firstViolations: readonly Violation[];
  readonly consistency?: ConsistencyReport;
  readonly passed: boolean;
}

const SCIM_TYPES = new Set([
  'invalidFilter',
  'tooMany',
  'uniqueness',
  'mutability',
  'invalidSyntax',
  'invalidPath',
  'noTarget',
  'invalidValue',
  'invalidVers',
  'sensitive',
]);
const DEFAULT_BOUND_MS = 10_000;

/** What is wrong with an answer, by the invariants every answer must hold. */
export function checkAnswer(c: Case, res: Exchange): string | undefined {
  const { expect } = c;
  if (res.status === 0) return expect.answerOptional ? undefined : `no answer (${res.error})`;
  if (res.ms > (expect.boundMs ?? DEFAULT_BOUND_MS)) return `answered after ${Math.round(res.ms)} ms (bound ${expect.boundMs ?? DEFAULT_BOUND_MS} ms)`;
  const { status } = res;
  if (status >= 500) {
    const storeFault = (status === 503 || status === 507) && Number(res.headers['retry-after']) > 0;
    const expected = expect.statuses?.includes(status);
    if (!storeFault && !expected) return `${status} (a server error)`;
  }
  if (expect.statuses && !expect.statuses.includes(status) && !(status === 503 && Number(res.headers['retry-after']) > 0)) {
    return `answered ${status}, expected ${expect.statuses.join(' or ')}`;
  }
  if (!res.headers['x-request-id']) return 'no X-Request-Id';
  if (res.headers['x-content-type-options'] !== 'nosniff') return 'no X-Content-Type-Options';
  if ((status === 429 || status === 503) && !(Number(res.headers['retry-after']) > 0)) return `${status} without Retry-After`;
  if (expect.noBody || status < 400) return undefined;
  let body: { schemas?: unknown; status?: unknown; scimType?: unknown; detail?: unknown };
  try {
    body = JSON.parse(res.body);
  } catch {
    return `a ${status} whose body is not JSON: ${preview(res.body, 120)}`;
  }
  if (!Array.isArray(body.schemas) || body.schemas[0] !== ERROR_SCHEMA) return `a ${status} without the SCIM error schema`;
  if (body.status !== String(status)) return `a ${status} whose body says status ${JSON.stringify(body.status)}`;
  if (typeof body.detail !== 'string' || !body.detail) return `a ${status} without a detail`;
  if (body.scimType !== undefined && !SCIM_TYPES.has(body.scimType as string)) return `unknown scimType ${JSON.stringify(body.scimType)}`;
  if (status === 400 && expect.scimType && !expect.scimType.includes(body.scimType as string)) {
    return `400 with scimType ${JSON.stringify(body.scimType)}, expected ${expect.scimType.join(' or ')} (${body.detail})`;
  }
  const type = String(res.headers['content-type'] ?? '');
  if (!type.startsWith('application/scim+json') && !type.startsWith('application/json')) return `a ${status} with Content-Type ${type}`;
  return undefined;
}

function percentile(sorted: Float64Array, p: number): number {
  if (!sorted.length) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] * 10) / 10;
}

class Latencies {
  private data = new Float64Array(1024);
  length = 0;
  push(ms: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = ms;
  }
  sorted(): Float64Array {
    return this.data.slice(0, this.length).sort();
  }
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzSummary> {
  const log = options.log ?? (() => undefined);
  const clients = options.clients ?? 4;
  const seconds = options.seconds ?? 3600;
  const dir = mkdtempSync(join(tmpdir(), 'scim-fuzz-'));
  const pg = options.store === 'postgres' ? await freshPostgres('scim_fuzz') : undefined;
  const databaseUrl = pg ? pg.url : `sqlite:${join(dir, 'bridge.db')}`;
  const bridge = await startBundle(databaseUrl, options.bundle ?? BUNDLE);
  const ack: Acknowledged = { userCreates: 0, userDeletes: 0, groupCreates: 0, groupDeletes: 0 };
  const lanes = Array.from(
    { length: clients },
    (_, lane) => new Lane({ seed: options.seed, lane, token: bridge.token, ack, mix: options.mix ?? DEFAULT_MIX, heavy: options.heavy }),
  );

  const byClass: Record<string, Tally> = {};
  const byKind: Record<string, Tally> = {};
  const latency: Record<string, Latencies> = {};
  const serverErrors: Record<string, number> = {};
  const violations: Violation[] = [];
  let violationCount = 0;
  let noAnswer = 0;
  let sent = 0;
  const startRss = rssOf(bridge.child.pid!);
  let maxRss = startRss;
  const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssOf(bridge.child.pid!))), 250);
  const started = performance.now();
  const deadline = Date.now() + seconds * 1000;
  let lastReport = Date.now();
  const tally = (table: Record<string, Tally>, key: string, status: number) => {
    const t = (table[key] ??= { total: 0, statuses: {} });
    t.total++;
    t.statuses[status] = (t.statuses[status] ?? 0) + 1;
  };
  const violate = (v: Violation) => {
    violationCount++;
    if (violations.length < 50) violations.push(v);
    if (violationCount <= 20) log(`VIOLATION lane ${v.lane} #${v.index} ${v.kind}: ${v.problem}\n  ${v.request}\n  → ${v.status} ${v.answer}`);
  };

  const runLane = async (lane: Lane) => {
    const agent = keepAliveAgent();
    const backgroundAgent = keepAliveAgent(4);
    const inFlight = new Set<Promise<void>>();
    let generated = 0;
    const handle = async (c: Case, index: number) => {
      const res = c.http ? await sendHttp(bridge.port, c.background ? backgroundAgent : agent, c.http) : await sendRaw(bridge.port, c.raw!);
      tally(byClass, c.cls, res.status);
      tally(byKind, c.kind, res.status);
      (latency[c.cls] ??= new Latencies()).push(res.ms);
      if (res.status >= 500) serverErrors[res.status] = (serverErrors[res.status] ?? 0) + 1;
      if (res.status === 0) {
        noAnswer++;
        c.onNoAnswer?.();
        // The connection may be dead: the next request gets a fresh one.
        (c.background ? backgroundAgent : agent).destroy();
      }
      let problem = bridge.exited === null ? checkAnswer(c, res) : `the bridge exited (${bridge.exited})`;
      // The model takes every answer, even one that breaks an invariant, so later predictions stay right.
      if (c.after && res.status > 0) {
        let body: unknown;
        try {
          body = res.body ? JSON.parse(res.body) : undefined;
        } catch {
          body = undefined;
        }
        try {
          const wrong = c.after(res, body);
          problem ??= wrong;
        } catch (error) {
          problem ??= `the answer could not be read: ${(error as Error).message}`;
        }
      }
      if (problem)
        violate({
          lane: lane.options.lane,
          index,
          cls: c.cls,
          kind: c.kind,
          request: describeCase(c),
          status: res.status,
          answer: preview(res.body, 300),
          problem,
        });
    };
    while (sent < options.requests && Date.now() < deadline && bridge.exited === null) {
      sent++;
      const c = lane.next();
      const index = generated++;
      if (c.background) {
        // At most a few slow requests per lane at once, beside its stream.
        const done: Promise<void> = handle(c, index).finally(() => inFlight.delete(done));
        inFlight.add(done);
        if (inFlight.size >= 4) await Promise.race(inFlight);
      } else {
        await handle(c, index);
      }
      if (Date.now() - lastReport > 10_000 && lane.options.lane === 0) {
        lastReport = Date.now();
        log(
          `  ${sent.toLocaleString('en')} requests, ${Math.round(sent / ((performance.now() - started) / 1000))}/s, RSS ${Math.round(rssOf(bridge.child.pid!))} MB, ${violationCount} violations`,
        );
      }
    }
    await Promise.all(inFlight);
    agent.destroy();
    backgroundAgent.destroy();
  };

  // Slow-loris connections: headers and half a body, then silence; the bridge must cut each with a 408 in its own time.
  const slowLoris = async () => {
    while (options.heavy && sent < options.requests && Date.now() + 45_000 < deadline && bridge.exited === null) {
      const res = await sendRaw(bridge.port, {
        pieces: [
          `POST /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${bridge.token}\r\nContent-Type: application/scim+json\r\nContent-Length: 400\r\n\r\n{"schemas":`,
        ],
        timeoutMs: 45_000,
      });
      tally(byClass, 'raw', res.status);
      tally(byKind, 'raw.slow-loris', res.status);
      const c: Case = { cls: 'raw', kind: 'raw.slow-loris', raw: { pieces: [], timeoutMs: 45_000 }, expect: { statuses: [408], boundMs: 45_000 } };
      const problem = checkAnswer(c, res);
      if (problem)
        violate({
          lane: -1,
          index: 0,
          cls: 'raw',
          kind: c.kind,
          request: 'POST with a body that stops',
          status: res.status,
          answer: preview(res.body),
          problem,
        });
    }
  };

  log(
    `fuzz: ${options.requests.toLocaleString('en')} requests on ${options.store}, seed ${JSON.stringify(options.seed)}, ${clients} clients, at most ${seconds} s`,
  );
  try {
    await Promise.all([...lanes.map(runLane), slowLoris()]);
  } finally {
    clearInterval(sampler);
  }
  const durationSeconds = (performance.now() - started) / 1000;
  const endRss = rssOf(bridge.child.pid!);
  maxRss = Math.max(maxRss, endRss);

  let consistency: ConsistencyReport | undefined;
  const problems: string[] = [];
  let exit: number | string | null = bridge.exited;
  try {
    if (bridge.exited === null) {
      log('consistency: reading everything back over HTTP');
      const http = await checkOverHttp({ url: bridge.url, token: bridge.token, models: lanes.flatMap((l) => [l.model, l.background]) }, problems);
      exit = await bridge.stop();
      if (exit !== 0) problems.push(`the bridge exited ${exit} on SIGTERM`);
      log('consistency: reading the database');
      const db = await checkDatabase(databaseUrl, ack, http, http.uncertain, problems);
      consistency = {
        users: http.users.size,
        groups: http.groups.size,
        memberships: http.memberships,
        events: db.events,
        eventsByAction: db.eventsByAction,
        unexplained: http.unexplained,
        uncertain: http.uncertain,
        problems,
      };
    } else {
      problems.push(`the bridge died during the run (${bridge.exited})`);
    }
  } finally {
    await bridge.stop();
    await pg?.drop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  for (const line of bridge.errorLines.slice(0, 5)) log(`ERROR LOG ${line.slice(0, 500)}`);
  for (const p of problems.slice(0, 20)) log(`CONSISTENCY ${p}`);

  const classes: FuzzSummary['byClass'] = {};
  for (const [cls, t] of Object.entries(byClass)) {
    const sorted = latency[cls]?.sorted() ?? new Float64Array();
    classes[cls] = { ...t, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: percentile(sorted, 100) };
  }
  const passed = violationCount === 0 && problems.length === 0 && bridge.errorLines.length === 0 && exit === 0;
  return {
    seed: options.seed,
    store: options.store,
    clients,
    requested: options.requests,
    sent,
    durationSeconds: Math.round(durationSeconds * 10) / 10,
    requestsPerSecond: Math.round(sent / durationSeconds),
    byClass: classes,
    byKind,
    serverErrors,
    noAnswer,
    rssMb: { start: Math.round(startRss), end: Math.round(endRss), max: Math.round(maxRss) },
    bridgeExit: exit,
    errorLogLines: bridge.errorLines.length,
    violations: violationCount,
    firstViolations: violations,
    consistency,
    passed,
  };
}
