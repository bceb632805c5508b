/**
 * The webhooks end to end: the bundled bridge in its own process, an identity provider writing over SCIM, and the
 * example consumer (examples/consumer) behind a front that injects faults. On both stores, every change in the log
 * (each one acknowledged to the identity provider) reaches the consumer, verified, in order per resource, at least
 * once, while the receiver fails and times out, while the bridge is killed with SIGKILL mid-delivery, with two
 * bridges on one PostgreSQL, and while PostgreSQL restarts; and a replay reproduces the same sequence.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateSecret } from '../../bridge/src/feed/signing';
import type { Change } from '../../bridge/src/feed/types';
import { createSession, serializeSession } from '../../bridge/src/session/scimsession';
import { openStore } from '../../bridge/src/store/open';
import { STORE_KINDS } from '../support/bridge';
import { BUNDLE, type BridgeProcess, freePort, spawnBridge } from '../support/process';
import { canRestartPostgres, describePostgres, freshDatabase, privateCluster } from '../support/postgres';
import { type Front, orderViolations, startFront } from './front';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const { session, token } = createSession();
const run = promisify(execFile);

/** One SCIM request; 0 when no answer came (a killed or restarting bridge). */
async function scim(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; json?: Record<string, unknown> }> {
  try {
    const res = await fetch(`${url}/scim/v2${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  } catch {
    return { status: 0 };
  }
}

/**
 * An identity provider's work on `lanes` lanes at once: users created, a group with members, updates, a suspension,
 * a delete. Returns how many writes were acknowledged. `bridges()` picks the bridge for each request.
 */
async function provision(bridges: () => string, prefix: string, users: number, lanes = 4): Promise<number> {
  let acknowledged = 0;
  const ok = (status: number) => (status >= 200 && status < 300 ? ++acknowledged : 0);
  const group = await scim(bridges(), 'POST', '/Groups', { schemas: [GROUP], displayName: `${prefix} team` });
  ok(group.status);
  const groupId = group.json?.id as string | undefined;
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < users) {
        const i = next++;
        const created = await scim(bridges(), 'POST', '/Users', { schemas: [USER], userName: `${prefix}-${i}@example.com`, displayName: `User ${i}` });
        if (!ok(created.status)) continue;
        const id = created.json!.id as string;
        ok(
          (
            await scim(bridges(), 'PATCH', `/Users/${id}`, {
              schemas: [PATCH],
              Operations: [{ op: 'replace', path: 'displayName', value: `User ${i} (renamed)` }],
            })
          ).status,
        );
        if (groupId)
          ok(
            (await scim(bridges(), 'PATCH', `/Groups/${groupId}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }] }))
              .status,
          );
        if (i % 5 === 0)
          ok((await scim(bridges(), 'PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] })).status);
        if (i % 7 === 0) ok((await scim(bridges(), 'DELETE', `/Users/${id}`)).status);
      }
    }),
  );
  return acknowledged;
}

async function changesIn(databaseUrl: string): Promise<Change[]> {
  const store = await openStore(databaseUrl);
  try {
    const all: Change[] = [];
    for (let page = await store.readChanges(0, 10_000); page.length > 0; page = await store.readChanges(page[page.length - 1].position, 10_000))
      all.push(...page);
    return all;
  } finally {
    await store.close();
  }
}

/** Every change of the log acknowledged by the consumer, in order per resource, and the consumer's table current. */
async function expectAllDelivered(front: Front, databaseUrl: string, timeoutMs: number): Promise<Change[]> {
  let changes: Change[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    changes = await changesIn(databaseUrl);
    const acknowledged = front.acknowledged();
    const missing = changes.filter((c) => !acknowledged.has(`chg_${c.directory}_${c.position}`));
    if (missing.length === 0) break;
    if (Date.now() > deadline)
      throw new Error(
        `${missing.length} of ${changes.length} changes never acknowledged, e.g. positions ${missing
          .slice(0, 5)
          .map((c) => c.position)
          .join(', ')}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
  expect(changes.length).toBeGreaterThan(0);
  expect(orderViolations(front.arrivals)).toEqual([]);
  // The consumer's table holds each resource's last version.
  const last = new Map<string, Change>();
  for (const c of changes) last.set(`${c.resource.type}/${c.resource.id}`, c);
  // A hold's notice is no resource the consumer keeps.
  for (const c of last.values()) if (c.resource.type !== 'Hold') expect(front.table.get(c.resource.type, c.resource.id)?.version).toBe(c.resource.version);
  return changes;
}

describe.each(STORE_KINDS)('webhooks end to end (%s)', (kind) => {
  let dir: string;
  let front: Front;
  let secret: string;
  const bridges: BridgeProcess[] = [];
  let databaseUrl: string;

  const env = (extra: Record<string, string> = {}) => ({
    SCIM_SESSION: serializeSession(session),
    SCIM_DATABASE_URL: databaseUrl,
    SCIM_WEBHOOKS: JSON.stringify([{ name: 'app', url: front.url }]),
    SCIM_WEBHOOK_SECRETS: JSON.stringify({ app: secret }),
    SCIM_WEBHOOKS_ALLOW_LOOPBACK: 'true',
    ...extra,
  });
  const spawn = async (extra: Record<string, string> = {}) => {
    const bridge = await spawnBridge(env(extra));
    bridges.push(bridge);
    return bridge;
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'scim-webhooks-e2e-'));
    databaseUrl = kind === 'postgres' ? await freshDatabase() : `sqlite:${join(dir, 'bridge.db')}`;
    secret = generateSecret();
    front = await startFront(join(dir, 'consumer.db'), secret);
  });

  afterEach(async () => {
    for (const bridge of bridges.splice(0)) {
      if (bridge.child.exitCode === null && bridge.child.signalCode === null) bridge.child.kill('SIGTERM');
      await bridge.exited;
    }
    await front.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers everything, in order per resource, while the receiver fails and times out for a while', async () => {
    const started = Date.now();
    // For 3 s every delivery fails; then two requests hang past the bridge's timeout; then all pass.
    let hung = 0;
    front.fault = () => (Date.now() - started < 3_000 ? 'fail' : hung++ < 2 ? 'hang' : 'pass');
    const bridge = await spawn();
    expect(await provision(() => bridge.url, 'flaky', 40)).toBeGreaterThan(100);
    await expectAllDelivered(front, databaseUrl, 90_000);
    expect(front.arrivals.some((a) => !a.acknowledged)).toBe(true);
  });

  it('delivers everything across a SIGKILL mid-delivery and a restart, and a replay reproduces the sequence', async () => {
    // Slow enough that the kill lands while deliveries are in flight.
    front.fault = () => 'slow';
    const first = await spawn();
    await provision(() => first.url, 'killed', 60);
    await front.until(() => front.arrivals.length >= 20, 30_000, '20 deliveries before the kill');
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    // The kill landed mid-delivery: changes were still waiting.
    expect(front.acknowledged().size).toBeLessThan((await changesIn(databaseUrl)).length);
    const second = await spawn();
    await provision(() => second.url, 'after', 10);
    const changes = await expectAllDelivered(front, databaseUrl, 90_000);

    // Replay from position 1 through the CLI: the same changes, in the same order, as the first time.
    const firstTime = new Map<number, string>();
    for (const a of front.arrivals) if (a.acknowledged && !firstTime.has(a.position)) firstTime.set(a.position, a.id);
    const before = front.arrivals.length;
    const { stdout } = await run(process.execPath, [BUNDLE, 'webhooks', 'replay', 'app', '--from', '1'], {
      env: { PATH: process.env.PATH, SCIM_DATABASE_URL: databaseUrl },
    });
    expect(stdout).toMatch(/app replays from position 1/);
    await front.until(
      () =>
        new Set(
          front.arrivals
            .slice(before)
            .filter((a) => a.acknowledged)
            .map((a) => a.position),
        ).size >= changes.length,
      60_000,
      'the replay',
    );
    const replayed = front.arrivals.slice(before).filter((a) => a.acknowledged);
    const firstSeen: number[] = [];
    for (const a of replayed) if (!firstSeen.includes(a.position)) firstSeen.push(a.position);
    // Per resource, the replay sends the same positions in the same order.
    const perResource = (positions: number[]) => {
      const map = new Map<string, number[]>();
      for (const p of positions) {
        const c = changes.find((x) => x.position === p)!;
        const key = `${c.resource.type}/${c.resource.id}`;
        map.set(key, [...(map.get(key) ?? []), p]);
      }
      return map;
    };
    expect(perResource(firstSeen)).toEqual(perResource(changes.map((c) => c.position)));
    expect(orderViolations(replayed)).toEqual([]);
  });

  it('registers an endpoint with the CLI; its secret, printed last, verifies its deliveries and another does not', async () => {
    const other = await startFront(join(dir, 'other.db'), generateSecret());
    try {
      const bridge = await spawn();
      const added = await run(process.execPath, [BUNDLE, 'webhooks', 'add', other.url, '--events', 'user.*'], {
        env: { PATH: process.env.PATH, SCIM_DATABASE_URL: databaseUrl, SCIM_WEBHOOKS_ALLOW_LOOPBACK: 'true' },
      });
      const lines = added.stdout.trim().split('\n');
      const registered = lines[lines.length - 1];
      expect(registered).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
      await scim(bridge.url, 'POST', '/Users', { schemas: [USER], userName: 'cli-endpoint@example.com' });
      await scim(bridge.url, 'POST', '/Groups', { schemas: [GROUP], displayName: 'not for this endpoint' });
      // The receiver holds another secret: verification fails (401), nothing is applied, the bridge retries.
      await other.until(() => other.arrivals.length >= 1, 20_000, 'a delivery to the CLI endpoint');
      expect(other.acknowledged().size).toBe(0);
      const list = await run(process.execPath, [BUNDLE, 'webhooks', 'list'], { env: { PATH: process.env.PATH, SCIM_DATABASE_URL: databaseUrl } });
      expect(list.stdout).toMatch(/wh_\w+\tregistered\tretrying\t.*\tuser\.\*\t/);
      expect(list.stdout).not.toContain(registered.slice(6));
      // Given the printed secret, the receiver verifies the retry; only user.* changes come.
      await other.useSecret(registered);
      await other.until(() => other.acknowledged().size >= 1, 30_000, 'the retry verified with the printed secret');
      expect(other.arrivals.every((a) => a.resource.startsWith('User/'))).toBe(true);
      expect(other.table.get('User', other.arrivals[0].resource.slice(5))?.state).toMatchObject({ userName: 'cli-endpoint@example.com' });
    } finally {
      await other.close();
    }
  });
});

describePostgres('webhooks end to end with two bridges on one PostgreSQL', () => {
  it('delivers everything once the two replicas share it, in order per resource', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scim-webhooks-two-'));
    const databaseUrl = await freshDatabase();
    const secret = generateSecret();
    const front = await startFront(join(dir, 'consumer.db'), secret);
    const env = {
      SCIM_SESSION: serializeSession(session),
      SCIM_DATABASE_URL: databaseUrl,
      SCIM_WEBHOOKS_ALLOW_LOOPBACK: 'true',
      SCIM_WEBHOOKS: JSON.stringify([{ name: 'app', url: front.url }]),
      SCIM_WEBHOOK_SECRETS: JSON.stringify({ app: secret }),
    };
    const a = await spawnBridge(env);
    const b = await spawnBridge(env);
    try {
      let turn = 0;
      await provision(() => (turn++ % 2 ? a.url : b.url), 'two', 60);
      await expectAllDelivered(front, databaseUrl, 90_000);
    } finally {
      for (const bridge of [a, b]) bridge.child.kill('SIGTERM');
      await Promise.all([a.exited, b.exited]);
      await front.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  (canRestartPostgres() ? it : it.skip)('delivers everything acknowledged while PostgreSQL restarts under load', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scim-webhooks-pgrestart-'));
    const cluster = privateCluster(await freePort());
    const secret = generateSecret();
    const front = await startFront(join(dir, 'consumer.db'), secret);
    const bridge = await spawnBridge({
      SCIM_SESSION: serializeSession(session),
      SCIM_DATABASE_URL: cluster.url,
      SCIM_WEBHOOKS_ALLOW_LOOPBACK: 'true',
      SCIM_WEBHOOKS: JSON.stringify([{ name: 'app', url: front.url }]),
      SCIM_WEBHOOK_SECRETS: JSON.stringify({ app: secret }),
    });
    try {
      const load = provision(() => bridge.url, 'restart', 80);
      await front.until(() => front.arrivals.length >= 30, 30_000, '30 deliveries before the restart');
      cluster.stop('fast');
      await new Promise((r) => setTimeout(r, 1_000));
      cluster.start();
      await load;
      await provision(() => bridge.url, 'after-restart', 10);
      await expectAllDelivered(front, cluster.url, 120_000);
    } finally {
      bridge.child.kill('SIGTERM');
      await bridge.exited;
      await front.close();
      cluster.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
