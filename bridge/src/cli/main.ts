/**
 * The `scim-bridge` command line. Mistakes print one line and exit non-zero; `--debug` (or
 * SCIM_BRIDGE_DEBUG=1) adds the stack trace.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, readConfig } from '../config';
import { SCOPES, type Scope } from '../feed/types';
import {
  SCOPED_SESSION_VERSION,
  type ScimSession,
  SessionError,
  addToken,
  createSession,
  parseSession,
  retireAllButNewest,
  serializeSession,
  tokensByScope,
} from '../session/scimsession';
import { VERSION, serve } from '../server';
import { openStore } from '../store/open';
import { StoreMisconfigured } from '../store/types';

class UsageError extends Error {}

const HELP = `scim-bridge ${VERSION}: a SCIM 2.0 bridge for identity providers

Usage:
  scim-bridge serve [--local]                       serve (configuration from the environment)
  scim-bridge session create --out FILE [--json] [--force]
                                                    new scimsession file; prints the bearer token last
  scim-bridge session rotate --session-file FILE [--scope S] [--retire-others] [--json]
                                                    add a token of scope S (old ones keep working unless
                                                    retired): provision (default; identity providers),
                                                    read (applications: SCIM reads and the change feed),
                                                    operate (operators: replay, redrive, holds)
  scim-bridge session retire --session-file FILE [--scope S]
                                                    keep only the newest token of scope S (default provision)
  scim-bridge session push-aws --secret-id ID --session-file FILE [--create] [--region R]
                                                    put the scimsession into AWS Secrets Manager
  scim-bridge groups list                           groups with their managed/protected state
  scim-bridge groups manage ID | unmanage ID        allow or stop changes to a group over SCIM
  scim-bridge groups grant-access [ID [--off]]      mark a group whose removals count as deprovisioning
  scim-bridge holds list [--json] | show ID | release ID | discard ID
                                                    deprovisioning bursts the feed holds for an operator
  scim-bridge sync google [--dry-run]               run one Google Workspace sync now, or print its plan
  scim-bridge migrate --from sqlite:PATH --to postgres://...
                                                    copy an embedded store into PostgreSQL
  scim-bridge doctor URL --token T [--ca FILE] [--write-check]
                                                    check a deployed bridge as an identity provider would;
                                                    the token may come from SCIM_DOCTOR_TOKEN or --token-file
                                                    instead (keeps it out of argv): see doctor --help
  scim-bridge db bootstrap                          create the bridge's own least-privilege PostgreSQL role
                                                    (SCIM_DATABASE_ADMIN_URL, once, before the service starts)
  scim-bridge webhooks add URL [--events TYPE,...] [--name NAME]
                                                    register a webhook endpoint; prints its signing secret last
  scim-bridge webhooks list [--json]                endpoints: state, lag, last delivery, failures, dead letters
  scim-bridge webhooks replay URL|NAME --from POSITION|TIME
                                                    deliver again from a position or a time
  scim-bridge webhooks redrive|pause|resume|remove URL|NAME
  scim-bridge webhooks secret                       a new signing secret for SCIM_WEBHOOK_SECRETS

Environment: SCIM_SESSION_FILE or SCIM_SESSION, SCIM_DATABASE_URL (default sqlite:./data/bridge.db),
PORT (3002), HOST (0.0.0.0), SCIM_ALLOWED_DOMAINS, LOG_LEVEL, SCIM_EVENT_RETENTION_DAYS (90),
SCIM_METRICS_REQUIRE_TOKEN (false), SCIM_MAX_CONCURRENT_REQUESTS (256), SCIM_DATABASE_POOL_SIZE (5),
SCIM_TLS_CERT_FILE and SCIM_TLS_KEY_FILE (serve HTTPS itself; re-read when they change).`;

type Out = (line: string) => void;

function writeNewFile(path: string, contents: string, force: boolean): void {
  if (existsSync(path) && !force) throw new UsageError(`${path} already exists; pass --force to replace it`);
  // Written beside the target and renamed, so a watcher never reads half a file.
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, contents, { mode: 0o600 });
  renameSync(temp, path);
}

function readSessionFile(path: string | undefined): ScimSession {
  if (!path) throw new UsageError('--session-file FILE is required');
  if (!existsSync(path)) throw new UsageError(`${path} does not exist`);
  return parseSession(readFileSync(path, 'utf8'));
}

/** Who a token of each scope is for, as the CLI tells the person holding it. */
const HOLDER: Record<Scope, string> = {
  provision: 'paste it into your identity provider',
  read: 'give it to your application: it reads SCIM and the change feed, and cannot write',
  operate: 'keep it for operators: replay, redrive, pause and holds',
};

function printToken(out: Out, token: string, sessionFile: string, json: boolean, intro: string, scope: Scope = 'provision'): void {
  if (json) {
    out(JSON.stringify({ token, sessionFile, ...(scope !== 'provision' ? { scope } : {}) }));
    return;
  }
  out(intro);
  out(`Bearer token (shown only now; ${HOLDER[scope]}):`);
  out(token);
}

function scopeOption(value: string | undefined): Scope {
  if (value === undefined) return 'provision';
  if (!(SCOPES as readonly string[]).includes(value)) throw new UsageError(`--scope must be one of ${SCOPES.join(', ')} (got "${value}")`);
  return value as Scope;
}

async function sessionCommand(args: string[], out: Out): Promise<void> {
  const [action, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      out: { type: 'string' },
      'session-file': { type: 'string' },
      json: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      'retire-others': { type: 'boolean', default: false },
      'secret-id': { type: 'string' },
      create: { type: 'boolean', default: false },
      region: { type: 'string' },
      scope: { type: 'string' },
    },
    strict: true,
  });
  const scope = scopeOption(values.scope);
  switch (action) {
    case 'create': {
      if (!values.out) throw new UsageError('session create needs --out FILE');
      const { session, token } = createSession();
      writeNewFile(values.out, serializeSession(session), values.force);
      printToken(out, token, values.out, values.json, `Wrote the scimsession to ${values.out} (keep it secret; it goes into your secret store).`);
      return;
    }
    case 'rotate': {
      const path = values['session-file']!;
      const before = readSessionFile(path);
      const { session, token } = addToken(before, { retireOthers: values['retire-others'], scope });
      writeNewFile(path, serializeSession(session), true);
      const flag = scope === 'provision' ? '' : ` --scope ${scope}`;
      const upgraded =
        session.version === SCOPED_SESSION_VERSION && before.version !== SCOPED_SESSION_VERSION
          ? ` The scimsession is now version ${SCOPED_SESSION_VERSION}: bridges older than this one refuse it rather than take a ${scope} token for a provision token.`
          : '';
      printToken(
        out,
        token,
        path,
        values.json,
        (values['retire-others']
          ? `Replaced every ${scope} token in ${path}: only the new one works once the bridge reads it (tokens of other scopes are untouched).`
          : `Added a ${scope} token to ${path} (${tokensByScope(session)[scope]} ${scope} tokens accepted). Retire the old ones with "scim-bridge session retire --session-file ${path}${flag}" once every client uses the new one.`) +
          upgraded,
        scope,
      );
      return;
    }
    case 'retire': {
      const path = values['session-file']!;
      const before = readSessionFile(path);
      if (tokensByScope(before)[scope] === 0) throw new UsageError(`${path} holds no ${scope} token`);
      const session = retireAllButNewest(before, scope);
      writeNewFile(path, serializeSession(session), true);
      const others = session.verifiers.length - tokensByScope(session)[scope];
      out(
        `${path} now accepts only its newest ${scope === 'provision' && others === 0 ? '' : `${scope} `}token${others ? ` (and its ${others} tokens of other scopes)` : ''}.`,
      );
      return;
    }
    case 'push-aws': {
      if (!values['secret-id']) throw new UsageError('session push-aws needs --secret-id ID');
      const text = serializeSession(readSessionFile(values['session-file']));
      const { putSessionInAwsSecret } = await import('../session/aws-secrets');
      const result = await putSessionInAwsSecret({ secretId: values['secret-id'], session: text, create: values.create, region: values.region });
      out(`Stored the scimsession in ${result.arn} (version ${result.versionId}).`);
      return;
    }
    default:
      throw new UsageError(`unknown session command "${action ?? ''}"; expected create, rotate, retire or push-aws`);
  }
}

async function groupsCommand(args: string[], out: Out): Promise<void> {
  const [action, id] = args;
  if (action === 'grant-access') return (await import('./holds')).grantAccessCommand(args.slice(1), out);
  const store = await openStore(readConfig(process.env).databaseUrl);
  try {
    await store.migrate();
    if (action === 'list') {
      const page = await store.queryGroups({ startIndex: 1, count: 10_000 });
      for (const group of page.items) {
        const state = group.protected ? 'protected' : group.managed ? 'managed' : 'not managed';
        out(`${group.id}\t${state}\t${group.displayName}`);
      }
      return;
    }
    if (action !== 'manage' && action !== 'unmanage')
      throw new UsageError(`unknown groups command "${action ?? ''}"; expected list, manage, unmanage or grant-access`);
    if (!id) throw new UsageError(`groups ${action} needs a group id (see "scim-bridge groups list")`);
    await store.transaction(async (tx) => {
      const group = await tx.getGroup(id);
      if (!group) throw new UsageError(`no group with id ${id}`);
      if (group.protected) throw new UsageError(`"${group.displayName}" is protected: it can never be managed over SCIM`);
      const managed = action === 'manage';
      await tx.updateGroup({ ...group, managed, version: group.version + 1, lastModified: new Date().toISOString() }, group.version);
      await tx.recordEvent({
        at: new Date().toISOString(),
        actor: 'cli',
        action: managed ? 'group.manage' : 'group.unmanage',
        resourceType: 'Group',
        resourceId: id,
        resourceName: group.displayName,
        outcome: 'success',
        status: 200,
      });
      out(`"${group.displayName}" is ${managed ? 'now managed: identity providers may change it' : 'no longer managed: identity providers cannot change it'}.`);
    });
  } finally {
    await store.close();
  }
}

export async function runCli(argv: string[], out: Out = (line) => process.stdout.write(`${line}\n`)): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      const { values } = parseArgs({ args: rest, options: { local: { type: 'boolean', default: false } }, strict: true });
      const bridge = await serve({ local: values.local, print: out });
      const shutdown = (signal: string) => {
        process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), msg: `${signal}: finishing in-flight requests` })}\n`);
        bridge.stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
      return;
    }
    case 'session':
      return sessionCommand(rest, out);
    case 'groups':
      return groupsCommand(rest, out);
    case 'doctor':
      return (await import('./doctor')).doctorCommand(rest, out);
    case 'holds':
      return (await import('./holds')).holdsCommand(rest, out);
    case 'sync':
      return (await import('./sync')).syncCommand(rest, out);
    case 'db':
      return (await import('./db')).dbCommand(rest, out);
    case 'webhooks':
      return (await import('./webhooks')).webhooksCommand(rest, out);
    case 'migrate': {
      const { values } = parseArgs({ args: rest, options: { from: { type: 'string' }, to: { type: 'string' } }, strict: true });
      if (!values.from || !values.to) throw new UsageError('migrate needs --from sqlite:PATH and --to postgres://...');
      const { migrateStore } = await import('../store/migrate');
      const summary = await migrateStore(values.from, values.to, out);
      out(
        `Copied ${summary.users} users, ${summary.groups} groups, ${summary.memberships} memberships, ${summary.events} events, ${summary.changes} changes of the feed (positions kept) and ${summary.state} kept state values.`,
      );
      return;
    }
    case '--version':
    case 'version':
      out(VERSION);
      return;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      out(HELP);
      return;
    default:
      throw new UsageError(`unknown command "${command}"; run "scim-bridge --help"`);
  }
}

/** Exit code and message for a failure, safe to print: never a scimsession or a token. */
export function describeFailure(error: unknown): { code: number; message: string } {
  // Commands in their own modules mark their usage errors (`usage: true`, or a WebhookUsageError) rather than import this one.
  if (error instanceof UsageError || (error as { usage?: unknown })?.usage === true || (error as Error)?.name === 'WebhookUsageError')
    return { code: 2, message: (error as Error).message };
  if (error instanceof ConfigError || error instanceof SessionError) return { code: 1, message: error.message };
  if (error instanceof StoreMisconfigured) return { code: 1, message: error.operatorMessage };
  const err = error as NodeJS.ErrnoException;
  if (err?.code === 'EADDRINUSE') return { code: 1, message: `the port is already in use (${err.message})` };
  if (err?.code === 'EACCES' || err?.code === 'ENOENT' || err?.code === 'EROFS') return { code: 1, message: err.message };
  if (err?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || err?.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return { code: 2, message: err.message };
  return { code: 1, message: err?.message ?? String(error) };
}
