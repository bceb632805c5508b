/**
 * `scim-bridge webhooks …`: endpoints registered on a running store (run with the bridge's SCIM_DATABASE_URL), and
 * an operator's actions on any endpoint, each recorded as a provisioning event (actor `cli`).
 *
 *   add URL [--events TYPE,…] [--name NAME]   register; prints the signing secret (whsec_…) as the last line
 *   list [--json]                             every endpoint: state, cursor, lag, last delivery, failures, dead letter
 *   replay URL|NAME --from POSITION|TIME      deliver again from a position (inclusive) or the first change at/after a time
 *   redrive URL|NAME                          retry a dead-lettered change now
 *   pause URL|NAME | resume URL|NAME          stop and restart deliveries
 *   remove URL|NAME                           forget an endpoint and its progress
 *   secret                                    print a new signing secret (for SCIM_WEBHOOK_SECRETS)
 */
import { parseArgs } from 'node:util';
import { readConfig } from '../config';
import type { WebhookEndpoint } from '../feed/endpoint-record';
import { endpointStatuses } from '../feed/endpoint-status';
import { findEndpoint, registerEndpoint, targetPolicy } from '../feed/endpoints';
import { UnsafeTarget } from '../feed/safe-target';
import { generateSecret } from '../feed/signing';
import type { ChangeLog } from '../feed/types';
import { openStore } from '../store/open';
import { UniqueViolation } from '../store/types';

type Out = (line: string) => void;

/** A mistake in the command: one line, exit code 2. */
export class WebhookUsageError extends Error {
  override readonly name = 'WebhookUsageError';
}

const ACTIONS = ['add', 'list', 'replay', 'redrive', 'pause', 'resume', 'remove', 'secret'];

/** `--from 1200` (a position) or `--from 2026-12-01T00:00:00Z` (a time): the cursor to set (the change before it). */
async function cursorFrom(log: ChangeLog, from: string, directory: string): Promise<{ cursor: number; said: string }> {
  const oldest = await log.oldestPosition(directory);
  const head = await log.headPosition(directory);
  if (/^\d+$/.test(from)) {
    const position = Number(from);
    if (position < 1) throw new WebhookUsageError('--from POSITION counts from 1');
    if (oldest > 0 && position < oldest)
      throw new WebhookUsageError(
        `position ${position} is no longer retained (the oldest is ${oldest}); replay from ${oldest}, or resync the application from /api/snapshot`,
      );
    return { cursor: Math.min(position - 1, head), said: `position ${position}` };
  }
  const at = Date.parse(from);
  if (Number.isNaN(at)) throw new WebhookUsageError(`--from must be a position (a whole number) or a time such as 2026-12-01T00:00:00Z (got "${from}")`);
  const position = await log.positionAt(new Date(at).toISOString(), directory);
  return { cursor: position === undefined ? head : position - 1, said: `${new Date(at).toISOString()} (position ${position ?? head + 1})` };
}

export async function webhooksCommand(args: string[], out: Out, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const [action, ...rest] = args;
  if (!ACTIONS.includes(action ?? '')) throw new WebhookUsageError(`unknown webhooks command "${action ?? ''}"; expected ${ACTIONS.join(', ')}`);
  const { values, positionals } = parseArgs({
    args: rest,
    options: { events: { type: 'string' }, name: { type: 'string' }, from: { type: 'string' }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  if (action === 'secret') {
    out("A new signing secret (put it in SCIM_WEBHOOK_SECRETS under the endpoint's name, and give it to the receiver):");
    out(generateSecret());
    return;
  }
  const policy = targetPolicy(env);
  const store = await openStore(readConfig(env).databaseUrl, env);
  try {
    await store.migrate();
    const event = (name: string, what: string, detail: string) =>
      store.recordEvent({ at: new Date().toISOString(), actor: 'cli', action: `webhook.${what}`, resourceName: name, outcome: 'success', status: 200, detail });
    if (action === 'add') {
      const [url] = positionals;
      if (!url) throw new WebhookUsageError('webhooks add needs a URL');
      const events = values.events
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      let registered: Awaited<ReturnType<typeof registerEndpoint>>;
      try {
        registered = await registerEndpoint(store, { url, events, name: values.name }, policy);
      } catch (error) {
        if (error instanceof UnsafeTarget || error instanceof RangeError) throw new WebhookUsageError(error.message);
        if (error instanceof UniqueViolation) throw new WebhookUsageError(`an endpoint named "${values.name}" exists already`);
        throw error;
      }
      const { endpoint, secret } = registered;
      await event(endpoint.name, 'add', `${endpoint.url}${events ? ` (${events.join(', ')})` : ''}, from position ${endpoint.position + 1}`);
      out(
        `Registered ${endpoint.name} for ${endpoint.url}${events ? ` (${events.join(', ')})` : ' (every change)'}: changes after position ${endpoint.position} are delivered.`,
      );
      out('Its signing secret (shown only now; give it to the receiver, which verifies webhook-signature with it):');
      out(secret);
      return;
    }
    const rows = await store.listWebhookEndpoints();
    if (action === 'list') {
      // The CLI may not have the bridge's SCIM_WEBHOOK_SECRETS: every endpoint is shown as the store has it.
      const statuses = await endpointStatuses(store, rows, () => true);
      if (values.json) {
        out(JSON.stringify(statuses));
        return;
      }
      if (statuses.length === 0) out('No webhook endpoints (add one with "scim-bridge webhooks add URL", or declare them in SCIM_WEBHOOKS).');
      for (const s of statuses) {
        const last = s.lastStatus !== null ? `last ${s.lastStatus}` : s.lastError ? 'last failed' : 'nothing sent yet';
        const dead = s.deadLetter ? `\tdead letter: position ${s.deadLetter.position} since ${s.deadLetter.at}` : '';
        out(
          `${s.name}\t${s.source}\t${s.state}\t${s.url}\t${s.events?.join(',') ?? '*'}\tat ${s.position}/${s.head} (lag ${s.lagPositions}, ${s.lagSeconds} s)\t${last}\t${s.delivered} delivered, ${s.failures} failed${dead}${s.lastError ? `\t${s.lastError}` : ''}`,
        );
      }
      return;
    }
    const [ref] = positionals;
    if (!ref) throw new WebhookUsageError(`webhooks ${action} needs the endpoint's URL or name (see "scim-bridge webhooks list")`);
    let endpoint: WebhookEndpoint;
    try {
      endpoint = findEndpoint(rows, ref);
    } catch (error) {
      throw new WebhookUsageError((error as Error).message);
    }
    switch (action) {
      case 'replay': {
        if (!values.from) throw new WebhookUsageError('webhooks replay needs --from POSITION or --from TIME');
        const { cursor, said } = await cursorFrom(store, values.from, endpoint.directory);
        await store.commandWebhookEndpoint(endpoint.id, { position: cursor });
        await event(endpoint.name, 'replay', `from ${said} (was at ${endpoint.position})`);
        out(`${endpoint.name} replays from ${said}: the next delivery is the first change after position ${cursor}.`);
        return;
      }
      case 'redrive': {
        if (endpoint.deadPosition === undefined && endpoint.attempts === 0) {
          out(`${endpoint.name} has no dead letter and nothing waiting for a retry.`);
          return;
        }
        await store.commandWebhookEndpoint(endpoint.id, { redrive: true });
        await event(
          endpoint.name,
          'redrive',
          endpoint.deadPosition !== undefined ? `dead letter at position ${endpoint.deadPosition}` : `retry of position ${endpoint.position + 1} now`,
        );
        out(`${endpoint.name}: position ${endpoint.deadPosition ?? endpoint.position + 1} is tried again now.`);
        return;
      }
      case 'pause':
      case 'resume': {
        await store.commandWebhookEndpoint(endpoint.id, { paused: action === 'pause' });
        await event(endpoint.name, action, endpoint.url);
        out(
          action === 'pause'
            ? `${endpoint.name} is paused: changes wait (and stay retained) until "webhooks resume".`
            : `${endpoint.name} delivers again from position ${endpoint.position + 1}.`,
        );
        return;
      }
      case 'remove': {
        await store.deleteWebhookEndpoint(endpoint.id);
        await event(endpoint.name, 'remove', endpoint.url);
        out(
          endpoint.source === 'declared'
            ? `Removed ${endpoint.name}'s progress; it is still in SCIM_WEBHOOKS, so the next start adds it again from the head: remove it there.`
            : `Removed ${endpoint.name} (${endpoint.url}).`,
        );
        return;
      }
    }
  } finally {
    await store.close();
  }
}
