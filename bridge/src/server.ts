/** `scim-bridge serve`: configuration, session, store and HTTP put together, with a graceful stop. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BRIDGE_ENV, BRIDGE_SIZING, SCIM_BASE_PATH } from '../../contract';
import { ConfigError, readConfig } from './config';
import { Directory } from './directory/directory';
import { guardStore } from './feed/gate';
import { readGuardSettings } from './feed/guard';
import { Promoter } from './feed/promoter';
import { buildApp } from './http/app';
import { installExtensions } from './scim/extensions';
import { tlsFromEnv } from './http/tls';
import { budgetEvents } from './ops/event-budget';
import { WebhookDelivery } from './feed/delivery';
import { readWebhookSettings, webhookKeepFrom } from './feed/endpoints';
import { BridgeMetrics, instrumentStore, registerHoldMetrics, registerWebhookMetrics } from './ops/metrics';
import { startChangeRetention, startEventRetention } from './ops/retention';
import { readOpsSettings } from './ops/settings';
import { createSession, serializeSession } from './session/scimsession';
import { SessionHolder, type SessionSource, fileSource, sessionSourceFromEnv } from './session/source';
import { GoogleSyncRunner, readGoogleConfig, registerSyncMetrics } from './sources';
import { openStore } from './store/open';
import { ReadyGate } from './store/ready';

export const VERSION = process.env.SCIM_BRIDGE_VERSION ?? '0.0.0-dev';

export interface ServeOptions {
  /** `npm start`: create ./data/scimsession on first start and print the token once. */
  readonly local?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  readonly print?: (line: string) => void;
  /** Where the scimsession comes from, instead of the environment (embedding, tests). */
  readonly sessionSource?: SessionSource;
  /** Longest wait for in-flight requests on stop, in ms. @default BRIDGE_SIZING.shutdownGraceSeconds less 2 s */
  readonly shutdownGraceMs?: number;
  /** Where the JSON log lines go instead of stdout (tests read them). */
  readonly logStream?: NodeJS.WritableStream;
  /**
   * The store turned out unusable for good after start (it came up, then refused a privilege, a certificate or a
   * password). @default print the one line and exit 1
   */
  readonly onFatal?: (message: string) => void;
}

export interface RunningBridge {
  readonly url: string;
  readonly port: number;
  /** The scimsession in use: emits `reload` and `reloadError` as its source changes. */
  readonly session: SessionHolder;
  stop(): Promise<void>;
}

const LOCAL_SESSION_FILE = './data/scimsession';
const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

function exitWith(message: string): void {
  process.stderr.write(`scim-bridge: ${message}\n`);
  process.exit(1);
}

function createLocalSession(print: (line: string) => void): string {
  const path = resolve(LOCAL_SESSION_FILE);
  if (existsSync(path)) return path;
  mkdirSync(dirname(path), { recursive: true });
  const { session, token } = createSession();
  writeFileSync(path, serializeSession(session), { mode: 0o600, flag: 'wx' });
  print(`Created a scimsession at ${path}. The bearer token (shown once; paste it into your identity provider):`);
  print(`  ${token}`);
  return path;
}

export async function serve(options: ServeOptions = {}): Promise<RunningBridge> {
  const env = options.env ?? process.env;
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  // A laptop's `serve --local` (npm start) listens on loopback only unless HOST says otherwise: its freshly printed
  // token should not be one network scan away. Containers set no --local and keep the contract's 0.0.0.0.
  const loopbackDefault = options.local === true && !env[BRIDGE_ENV.host];
  const config = readConfig(loopbackDefault ? { ...env, [BRIDGE_ENV.host]: '127.0.0.1' } : env);
  installExtensions(config.extensions);
  const ops = readOpsSettings(env);
  const guard = readGuardSettings(env);
  // HTTPS in the bridge itself (SCIM_TLS_CERT_FILE + SCIM_TLS_KEY_FILE): a bad pair stops here, before the store opens.
  const tls = tlsFromEnv(env);
  // Google Workspace (sources/google): read with the rest of the configuration, so a mistake stops the start at once.
  const googleConfig = readGoogleConfig(env);
  // Webhooks (feed/): declared endpoints and their secrets, and which targets are allowed; a mistake stops here.
  const webhookSettings = readWebhookSettings(env);
  const startedAt = new Date();

  let source = options.sessionSource ?? sessionSourceFromEnv(env);
  if (!source) {
    if (!options.local) {
      throw new ConfigError(
        `no scimsession configured: set ${BRIDGE_ENV.sessionFile} (a path) or ${BRIDGE_ENV.session} (its contents); create one with "scim-bridge session create --out scimsession"`,
      );
    }
    source = fileSource(createLocalSession(print));
  }

  const metrics = new BridgeMetrics();
  let app: ReturnType<typeof buildApp> | undefined;
  // Before the app (and its logger) exists, lines go straight to stdout in the same JSON shape.
  const log = (level: 'info' | 'warn', msg: string, fields: Record<string, unknown> = {}) => {
    if (app) app.log[level](fields, msg);
    else if (LEVELS[config.logLevel] <= LEVELS[level])
      (options.logStream ?? process.stdout).write(`${JSON.stringify({ level: LEVELS[level], time: Date.now(), ...fields, msg })}\n`);
  };
  const rawStore = await openStore(config.databaseUrl, env, { warn: (line) => log('warn', line) });
  // The bridge serves while its database is still coming up (503 meanwhile) and migrates once it answers.
  const gate = new ReadyGate(rawStore, { log, onFatal: options.onFatal ?? exitWith });
  // Refused requests' events within a budget (event-budget.ts); the metrics, outside it, count every one.
  const store = instrumentStore(budgetEvents(gate.store), metrics);
  const session = new SessionHolder(source, {
    onReload: (tokens) => app?.log.info({ tokens, source: source.description }, 'scimsession reloaded'),
    onReloadError: (error) => {
      const entry = { source: source.description, reason: error.message };
      // Before the app (and its logger) exists, a waiting start still says why it is not healthy.
      if (app) app.log.warn(entry, 'scimsession reload failed; keeping the last good one');
      else
        (options.logStream ?? process.stdout).write(`${JSON.stringify({ level: 40, time: Date.now(), ...entry, msg: 'no valid scimsession yet; polling' })}\n`);
    },
  });
  try {
    if (source.tolerateInvalidAtStart) {
      // A freshly deployed secret may still hold its placeholder: serve /ping, answer /health with 503 and
      // keep polling until a real scimsession arrives, instead of crash-looping the deployment.
      session.once('gaveUp', (waitedMs) =>
        (options.onFatal ?? exitWith)(
          `no valid scimsession in ${source.description} after ${Math.round(waitedMs / 1000)} s; put one there (scim-bridge session push-aws for AWS) and the platform's restart picks it up (${BRIDGE_ENV.sessionWaitSeconds} sets the wait)`,
        ),
      );
      await session.startPolling(ops.sessionWaitSeconds * 1000);
    } else {
      await session.start();
    }
    await gate.start();
  } catch (error) {
    session.stop();
    await store.close().catch(() => undefined);
    throw error;
  }

  // The directory appends changes through the deprovisioning guard's gate; operator actions use the store itself.
  const directory = new Directory(guardStore(store, { settings: guard }), { allowedDomains: config.allowedDomains, usernameFormat: config.usernameFormat });
  let sync: GoogleSyncRunner | undefined;
  let webhooks: WebhookDelivery | undefined;
  app = buildApp({
    directory,
    store,
    session,
    version: VERSION,
    logLevel: config.logLevel,
    metrics,
    metricsRequireToken: ops.metricsRequireToken,
    maxConcurrentRequests: ops.maxConcurrentRequests,
    trustProxy: config.trustProxy,
    ...(options.logStream ? { logStream: options.logStream } : {}),
    eventRetentionDays: ops.eventRetentionDays,
    startedAt,
    httpsServerFactory: tls?.serverFactory,
    syncStatus: googleConfig ? () => sync?.status() : undefined,
    webhookStatus: async () => (webhooks ? webhooks.statuses() : []),
  });
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    session.stop();
    await app.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw error;
  }
  tls?.watch(app.log);
  const stopEventRetention = startEventRetention(store, ops.eventRetentionDays, app.log);
  // Never past a webhook endpoint's cursor (paused and dead-lettered ones too): everything else past the period goes.
  const keepFrom = async () => webhookKeepFrom(await store.listWebhookEndpoints()) ?? (await store.headPosition()) + 1;
  const stopChangeRetention = startChangeRetention(store, ops.changeRetentionDays, keepFrom, app.log);
  const stopRetention = () => Promise.all([stopEventRetention(), stopChangeRetention()]);
  const promoter = new Promoter({ store, settings: guard, log: app.log });
  registerHoldMetrics(metrics.registry, () => promoter.activeHolds);
  promoter.start();
  // ---- Google Workspace sync: starts once the bridge serves, stops before the store closes ----
  if (googleConfig) {
    sync = new GoogleSyncRunner({ config: googleConfig, directory, store, log: app.log, version: VERSION });
    registerSyncMetrics(metrics.registry, () => sync?.status());
    sync.start();
  }
  // ---- end Google Workspace sync ----
  // ---- webhooks: deliver the change log to every endpoint (any replica; one per endpoint under its lease) ----
  webhooks = new WebhookDelivery({
    store,
    declared: webhookSettings.declared,
    policy: webhookSettings.policy,
    log: app.log,
    version: VERSION,
    counters: registerWebhookMetrics(metrics.registry, () => webhooks?.statuses() ?? Promise.resolve([])),
  });
  await webhooks.start();
  // ---- end webhooks ----
  const address = app.server.address();
  const bound = typeof address === 'object' && address ? address : undefined;
  const port = bound?.port ?? config.port;
  const shownHost = loopbackDefault || config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `${tls ? 'https' : 'http'}://${shownHost}:${port}`;
  app.log.info(
    { url, scim: `${url}${SCIM_BASE_PATH}`, address: bound?.address ?? config.host, store: store.kind, session: source.description, version: VERSION },
    'scim-bridge listening',
  );
  if (options.local) {
    print(`SCIM bridge ${VERSION} on ${url}`);
    print(`  SCIM base URL:  ${url}${SCIM_BASE_PATH}`);
    print(`  health:         ${url}/health`);
    print(`  scimsession:    ${source.description}`);
    print(`  store:          ${config.databaseUrl}`);
  }

  const graceMs = options.shutdownGraceMs ?? BRIDGE_SIZING.shutdownGraceSeconds * 1000 - 2000;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      session.stop();
      tls?.stop();
      // close() stops accepting and waits for in-flight requests; the bound (under the platform's grace
      // period) keeps a stuck client from holding the exit, and then its connection is cut.
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<'timeout'>((done) => {
        timer = setTimeout(done, graceMs, 'timeout');
      });
      const closed = app!.close();
      const outcome = await Promise.race([closed.then(() => 'closed' as const), bound]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        app!.log.warn({ graceMs }, 'shutdown grace period over; closing the connections still open');
        app!.server.closeAllConnections();
        await closed.catch(() => undefined);
      }
      await sync?.stop();
      await promoter.stop();
      await webhooks?.stop();
      await stopRetention();
      await store.close();
    })());
  return { url, port, session, stop };
}
