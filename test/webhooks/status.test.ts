/**
 * What an operator sees of the webhooks: /api/status (the status page's data) and /metrics show each endpoint's
 * state, lag, last status and failures, from the bundled bridge in its own process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSecret } from '../../bridge/src/feed/signing';
import { createSession, serializeSession } from '../../bridge/src/session/scimsession';
import { spawnBridge } from '../support/process';
import { startReceiver } from './receiver';

const { session, token } = createSession();

it('the status API and /metrics show an endpoint that is failing: state, lag, last status, failures', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'scim-webhooks-status-'));
  const secret = generateSecret();
  const receiver = await startReceiver(secret);
  receiver.answer = () => ({ status: 503, headers: { 'retry-after': '120' }, body: 'maintenance' });
  const bridge = await spawnBridge({
    SCIM_SESSION: serializeSession(session),
    SCIM_DATABASE_URL: `sqlite:${join(dir, 'bridge.db')}`,
    SCIM_WEBHOOKS: JSON.stringify([{ name: 'app', url: receiver.url }]),
    SCIM_WEBHOOK_SECRETS: JSON.stringify({ app: secret }),
    SCIM_WEBHOOKS_ALLOW_LOOPBACK: 'true',
  });
  const auth = { authorization: `Bearer ${token}` };
  try {
    const created = await fetch(`${bridge.url}/scim/v2/Users`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/scim+json' },
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'status@example.com' }),
    });
    expect(created.status).toBe(201);
    await receiver.until(() => receiver.deliveries.length >= 1);
    let webhooks: Record<string, unknown>[] = [];
    for (let i = 0; i < 100; i++) {
      webhooks = ((await (await fetch(`${bridge.url}/api/status`, { headers: auth })).json()) as { webhooks: Record<string, unknown>[] }).webhooks;
      if (webhooks[0]?.failures) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(webhooks).toEqual([
      expect.objectContaining({
        name: 'app',
        source: 'declared',
        state: 'retrying',
        lagPositions: 1,
        lastStatus: 503,
        failures: 1,
        delivered: 0,
        deadLetter: null,
        lastError: 'answered 503: maintenance',
      }),
    ]);
    // Retry-After: 120 is honoured: the next attempt is at least two minutes away.
    expect(Date.parse(webhooks[0].nextAttemptAt as string) - Date.now()).toBeGreaterThan(100_000);
    expect(receiver.deliveries[0].verified).toBe(true);
    const metrics = await (await fetch(`${bridge.url}/metrics`)).text();
    expect(metrics).toMatch(/scim_bridge_webhook_deliveries_total\{endpoint="app",outcome="failed"\} 1/);
    expect(metrics).toMatch(/scim_bridge_webhook_lag_positions\{endpoint="app"\} 1/);
    expect(metrics).toMatch(/scim_bridge_webhook_lag_seconds\{endpoint="app"\} [\d.]+/);
    expect(metrics).toMatch(/scim_bridge_webhook_dead_letter\{endpoint="app"\} 0/);
  } finally {
    bridge.child.kill('SIGTERM');
    await bridge.exited;
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
