/**
 * `scim-bridge webhooks …` on both stores: registration (its checks, the secret printed last), list, replay from a
 * position or a time, pause, resume, redrive, remove; each operator action a provisioning event by `cli`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebhookUsageError, webhooksCommand } from '../../bridge/src/cli/webhooks';
import { openStore } from '../../bridge/src/store/open';
import type { Store } from '../../bridge/src/store/types';
import { STORE_KINDS } from '../support/bridge';
import { freshDatabase } from '../support/postgres';

describe.each(STORE_KINDS)('scim-bridge webhooks (%s)', (kind) => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let store: Store;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'scim-webhooks-cli-'));
    const url = kind === 'postgres' ? await freshDatabase() : `sqlite:${join(dir, 'bridge.db')}`;
    env = { SCIM_DATABASE_URL: url, SCIM_WEBHOOKS_ALLOW_LOOPBACK: 'true' };
    store = await openStore(url);
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = async (...args: string[]) => {
    const lines: string[] = [];
    await webhooksCommand(args, (line) => lines.push(line), env);
    return lines;
  };
  const append = (n: number) =>
    store.transaction((tx) =>
      tx.appendChanges(
        Array.from({ length: n }, (_, i) => ({ type: 'user.created' as const, resource: { type: 'User' as const, id: `u${i}`, version: 1 }, actor: 'test' })),
      ),
    );

  it('registers an endpoint from the head of the log and prints its secret as the last line', async () => {
    await append(3);
    const lines = await cli('add', 'http://127.0.0.1:9/hooks', '--events', 'user.*,group.deleted');
    expect(lines[lines.length - 1]).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const [endpoint] = await store.listWebhookEndpoints();
    expect(endpoint).toMatchObject({
      url: 'http://127.0.0.1:9/hooks',
      events: ['user.*', 'group.deleted'],
      source: 'registered',
      position: 3,
      secret: lines[lines.length - 1],
    });
    const list = await cli('list');
    expect(list[0]).toMatch(
      new RegExp(`^${endpoint.name}\\tregistered\\tdelivering\\thttp://127.0.0.1:9/hooks\\tuser\\.\\*,group\\.deleted\\tat 3/3 \\(lag 0, 0 s\\)`),
    );
    expect(list.join('\n')).not.toContain(endpoint.secret!.slice(6));
    const events = await store.listEvents({ limit: 5 });
    expect(events[0]).toMatchObject({ actor: 'cli', action: 'webhook.add', resourceName: endpoint.name, outcome: 'success' });
  });

  it.each([
    ['plain http to another host', ['add', 'http://hooks.example.com/'], /plain http/],
    ['the metadata address', ['add', 'https://169.254.169.254/latest'], /link-local/],
    ['an unknown change type', ['add', 'https://hooks.example.com/', '--events', 'user.renamed'], /user\.renamed/],
    ['credentials in the URL', ['add', 'https://me:pw@hooks.example.com/'], /credentials/],
    ['an unknown endpoint', ['pause', 'https://nowhere.example.com/'], /no webhook endpoint/],
    ['an unknown action', ['frobnicate'], /unknown webhooks command/],
  ])('refuses %s with one line', async (_what, args, message) => {
    await expect(cli(...args)).rejects.toThrow(message);
    await expect(cli(...args)).rejects.toBeInstanceOf(WebhookUsageError);
  });

  it('replays from a position or a time, pauses, resumes, redrives and removes, each an event', async () => {
    await append(5);
    const [, , secretLine] = await cli('add', 'https://hooks.example.com/a', '--name', 'app');
    expect(secretLine).toMatch(/^whsec_/);
    const row = async () => (await store.listWebhookEndpoints()).find((e) => e.name === 'app')!;
    expect((await row()).position).toBe(5);

    expect(await cli('replay', 'https://hooks.example.com/a', '--from', '2')).toEqual([
      'app replays from position 2: the next delivery is the first change after position 1.',
    ]);
    expect((await row()).position).toBe(1);
    const before = new Date(Date.now() - 60_000).toISOString();
    await cli('replay', 'app', '--from', before);
    expect((await row()).position).toBe(0);
    await expect(cli('replay', 'app', '--from', 'yesterday')).rejects.toThrow(/a position \(a whole number\) or a time/);
    await expect(cli('replay', 'app')).rejects.toThrow(/--from/);

    await cli('pause', 'app');
    expect((await row()).paused).toBe(true);
    expect((await cli('list'))[0]).toMatch(/\tpaused\t/);
    await cli('resume', 'app');
    expect((await row()).paused).toBe(false);
    expect(await cli('redrive', 'app')).toEqual(['app has no dead letter and nothing waiting for a retry.']);
    await cli('remove', 'app');
    expect(await store.listWebhookEndpoints()).toEqual([]);

    const actions = (await store.listEvents({ limit: 20 }))
      .filter((e) => e.actor === 'cli')
      .map((e) => e.action)
      .reverse();
    expect(actions).toEqual(['webhook.add', 'webhook.replay', 'webhook.replay', 'webhook.pause', 'webhook.resume', 'webhook.remove']);
  });

  it('prints a new signing secret for a declared endpoint', async () => {
    const lines = await cli('secret');
    expect(lines[lines.length - 1]).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
  });
});
