/** The webhook endpoints' SQL (migration 5), shared by both adapters. */
import type { EndpointCommand, EndpointProgress, WebhookEndpoint, WebhookEndpointStore } from '../feed/endpoint-record';
import type { Dialect } from './sql-filter';
import type { SqlExecutor } from './sql-store';

const COLUMNS =
  'id, name, url, events, source, secret, directory, position, attempts, failing_since, next_attempt_at, last_attempt_at, last_status, last_error, last_delivered_at, delivered, failures, paused, dead_position, dead_at, revision, created';

const optionalNumber = (value: unknown) => (value === null || value === undefined ? undefined : Number(value));

function toEndpoint(row: Record<string, unknown>): WebhookEndpoint {
  return {
    id: row.id as string,
    name: row.name as string,
    url: row.url as string,
    events: row.events ? (JSON.parse(row.events as string) as string[]) : undefined,
    source: row.source as WebhookEndpoint['source'],
    secret: (row.secret as string | null) ?? undefined,
    directory: row.directory as string,
    position: Number(row.position),
    attempts: Number(row.attempts),
    failingSince: optionalNumber(row.failing_since),
    nextAttemptAt: Number(row.next_attempt_at),
    lastAttemptAt: optionalNumber(row.last_attempt_at),
    lastStatus: optionalNumber(row.last_status),
    lastError: (row.last_error as string | null) ?? undefined,
    lastDeliveredAt: optionalNumber(row.last_delivered_at),
    delivered: Number(row.delivered),
    failures: Number(row.failures),
    paused: row.paused === true || Number(row.paused) === 1,
    deadPosition: optionalNumber(row.dead_position),
    deadAt: optionalNumber(row.dead_at),
    revision: Number(row.revision),
    created: row.created as string,
  };
}

/** An error's text as kept: one line, bounded. */
const errorText = (text: string | undefined) => (text === undefined ? null : text.replace(/\s+/g, ' ').slice(0, 500));

export function webhookEndpointSql(db: SqlExecutor, dialect: Dialect): WebhookEndpointStore {
  const bool = (value: boolean) => dialect.booleanParam(value);
  return {
    async listWebhookEndpoints() {
      return (await db.all<Record<string, unknown>>(`SELECT ${COLUMNS} FROM webhook_endpoints ORDER BY name`)).map(toEndpoint);
    },
    async getWebhookEndpoint(id) {
      const [row] = await db.all<Record<string, unknown>>(`SELECT ${COLUMNS} FROM webhook_endpoints WHERE id = $1`, [id]);
      return row ? toEndpoint(row) : undefined;
    },
    async insertWebhookEndpoint(e) {
      await db.run(
        `INSERT INTO webhook_endpoints (id, name, url, events, source, secret, directory, position, next_attempt_at, paused, revision, delivered, failures, attempts, created)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, 0, 0, 0, 0, $10)`,
        [e.id, e.name, e.url, e.events ? JSON.stringify(e.events) : null, e.source, e.secret ?? null, e.directory, e.position, bool(false), e.created],
      );
    },
    async upsertDeclaredWebhookEndpoint(e) {
      await db.run(
        `INSERT INTO webhook_endpoints (id, name, url, events, source, secret, directory, position, next_attempt_at, paused, revision, delivered, failures, attempts, created)
         VALUES ($1, $2, $3, $4, 'declared', NULL, $5, $6, 0, $7, 0, 0, 0, 0, $8)
         ON CONFLICT (id) DO UPDATE SET url = excluded.url, events = excluded.events`,
        [e.id, e.name, e.url, e.events ? JSON.stringify(e.events) : null, e.directory, e.position, bool(false), e.created],
      );
    },
    async saveWebhookProgress(id, revision, p: EndpointProgress, lease) {
      const changed = await db.run(
        `UPDATE webhook_endpoints SET position = $3, attempts = $4, failing_since = $5, next_attempt_at = $6, last_attempt_at = COALESCE($7, last_attempt_at),
           last_status = COALESCE($8, last_status), last_error = $9, last_delivered_at = COALESCE($10, last_delivered_at),
           delivered = delivered + $11, failures = failures + $12, dead_position = $13, dead_at = $14
         WHERE id = $1 AND revision = $2 AND EXISTS (SELECT 1 FROM leases WHERE name = $15 AND holder = $16 AND expires_at > ${dialect.nowMs})`,
        [
          id,
          revision,
          p.position,
          p.attempts,
          p.failingSince ?? null,
          p.nextAttemptAt,
          p.lastAttemptAt ?? null,
          p.lastStatus ?? null,
          errorText(p.lastError),
          p.lastDeliveredAt ?? null,
          p.deliveredIncrement,
          p.failuresIncrement,
          p.deadPosition ?? null,
          p.deadAt ?? null,
          lease.name,
          lease.holder,
        ],
      );
      return changed === 1;
    },
    async commandWebhookEndpoint(id, c: EndpointCommand) {
      const sets = ['revision = revision + 1'];
      const params: unknown[] = [id];
      const param = (value: unknown) => {
        params.push(value);
        return `$${params.length}`;
      };
      if (c.position !== undefined) sets.push(`position = ${param(c.position)}`);
      if (c.paused !== undefined) sets.push(`paused = ${param(bool(c.paused))}`);
      // A new cursor or a redrive starts the head change afresh: no retry wait, no dead letter.
      if (c.position !== undefined || c.redrive)
        sets.push('attempts = 0', 'failing_since = NULL', 'next_attempt_at = 0', 'dead_position = NULL', 'dead_at = NULL');
      return (await db.run(`UPDATE webhook_endpoints SET ${sets.join(', ')} WHERE id = $1`, params)) === 1;
    },
    async deleteWebhookEndpoint(id) {
      return (await db.run('DELETE FROM webhook_endpoints WHERE id = $1', [id])) === 1;
    },
  };
}
