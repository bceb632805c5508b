/**
 * `scim-bridge doctor URL --token T [--ca FILE] [--write-check]`: checks a deployed bridge the way an identity
 * provider reaches it (DNS, TLS, the HTTP-to-HTTPS redirect, probes, the bearer token, discovery, a read, and on
 * request a create/delete round trip), one line per check, and fails (exit 1) when any check fails.
 *
 * The token is only ever sent over TLS that verified (or plain HTTP with --allow-http, for loopback), and never
 * printed: every line passes through a scrubber that replaces it.
 */
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import { parseArgs } from 'node:util';
import { BRIDGE_PATHS, DOCTOR_ENV, SCIM_BASE_PATH } from '../../../contract';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** Stable id for machines (`--json`). */
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  /** What was seen. */
  readonly detail: string;
  /** What to do about a warning or failure. */
  readonly hint?: string;
}

export interface DoctorReport {
  readonly url: string;
  readonly scimBaseUrl: string;
  readonly ok: boolean;
  readonly failures: number;
  readonly warnings: number;
  readonly checks: CheckResult[];
}

export interface DoctorOptions {
  /** The bridge's URL: its host (`https://scim.example.com`) or its SCIM base URL (`…/scim/v2`). */
  readonly url: string;
  readonly token: string;
  /** Extra trusted CA certificates (PEM), besides the default ones. */
  readonly ca?: string | Buffer;
  /** Create, read, deactivate and delete a test user. @default false */
  readonly writeCheck?: boolean;
  /** Email domain of the test user (must pass SCIM_ALLOWED_DOMAINS). @default 'doctor.invalid' */
  readonly writeCheckDomain?: string;
  /** Port of the plain-HTTP listener to check for a redirect. @default 80 */
  readonly httpPort?: number;
  /** Accept a plain http:// URL and send the token over it (loopback testing only). @default false */
  readonly allowHttp?: boolean;
  /** Per-request timeout in ms. @default 10 000 */
  readonly timeoutMs?: number;
  /** Warn when the certificate ends within this many days. @default 21 */
  readonly expiryWarningDays?: number;
  /** Called as each check finishes (the CLI prints as it goes). */
  readonly onCheck?: (check: CheckResult) => void;
}

const SPC_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const SCIM_JSON = 'application/scim+json';
const DAY_MS = 86_400_000;
const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

interface Response {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  /** The parsed body, or undefined when it is not JSON; read with `at`, which checks each step. */
  readonly json: unknown;
}

interface Target {
  readonly url: URL;
  /** Origin plus any path before the SCIM base (probes live beside it). */
  readonly root: string;
  readonly scim: string;
  readonly secure: boolean;
  readonly host: string;
  readonly port: number;
}

/** The bridge's root and SCIM base from what the user typed (host, root or SCIM base URL). */
export function parseTarget(input: string): Target {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(input) ? input : `https://${input}`);
  } catch {
    throw new DoctorUsageError(`"${input}" is not a URL such as https://scim.example.com`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new DoctorUsageError(`"${input}" must be an https:// URL`);
  if (url.username || url.password) throw new DoctorUsageError('put the token in --token, SCIM_DOCTOR_TOKEN or --token-file, not in the URL');
  const path = url.pathname.replace(/\/+$/, '');
  const lower = path.toLowerCase();
  let root = path;
  for (const suffix of [SCIM_BASE_PATH, '/scim']) {
    if (lower.endsWith(suffix)) {
      root = path.slice(0, -suffix.length);
      break;
    }
  }
  const origin = `${url.protocol}//${url.host}`;
  const secure = url.protocol === 'https:';
  return {
    url,
    root: `${origin}${root}`,
    scim: `${origin}${root}${SCIM_BASE_PATH}`,
    secure,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : secure ? 443 : 80,
  };
}

/** A mistake in how doctor was called: exit code 2, like the rest of the CLI's usage errors. */
export class DoctorUsageError extends Error {
  // describeFailure (cli/main.ts) maps this code to exit 2.
  readonly code = 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE';
}

function caList(extra: string | Buffer | undefined): string[] | undefined {
  if (extra === undefined) return undefined;
  // Passing `ca` replaces the default trust store; keep it (and NODE_EXTRA_CA_CERTS, and the system's when enabled).
  const defaults = typeof tls.getCACertificates === 'function' ? tls.getCACertificates('default') : [...tls.rootCertificates];
  return [...defaults, extra.toString()];
}

function errorCode(error: unknown): string {
  const err = error as NodeJS.ErrnoException;
  return err?.code ?? err?.message ?? String(error);
}

/** The member at `path` in a parsed JSON answer, or undefined where a step is missing or not an object. */
function at(value: unknown, ...path: string[]): unknown {
  let here = value;
  for (const key of path) {
    if (here === null || typeof here !== 'object') return undefined;
    here = (here as Record<string, unknown>)[key];
  }
  return here;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const target = parseTarget(options.url);
  const token = options.token;
  if (!token) throw new DoctorUsageError('a bearer token is needed');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const warningDays = options.expiryWarningDays ?? 21;
  const ca = caList(options.ca);
  const agent = target.secure ? new https.Agent({ ca, keepAlive: true, maxSockets: 4 }) : new http.Agent({ keepAlive: true, maxSockets: 4 });
  const checks: CheckResult[] = [];
  const scrub = (text: string) => (token.length >= 4 ? text.split(token).join('[token]') : text);
  const record = (check: CheckResult) => {
    const clean: CheckResult = { ...check, detail: scrub(check.detail), ...(check.hint ? { hint: scrub(check.hint) } : {}) };
    checks.push(clean);
    options.onCheck?.(clean);
    return clean;
  };
  const ok = (id: string, title: string, detail: string) => record({ id, title, status: 'ok', detail });
  const warn = (id: string, title: string, detail: string, hint?: string) => record({ id, title, status: 'warn', detail, hint });
  const fail = (id: string, title: string, detail: string, hint?: string) => record({ id, title, status: 'fail', detail, hint });
  const skip = (id: string, title: string, detail: string) => record({ id, title, status: 'skip', detail });

  const request = (method: string, url: string, init: { auth?: string | null; body?: unknown; plain?: boolean; timeout?: number } = {}): Promise<Response> =>
    new Promise((resolvePromise, reject) => {
      const parsed = new URL(url);
      const body = init.body === undefined ? undefined : JSON.stringify(init.body);
      const headers: http.OutgoingHttpHeaders = { accept: `${SCIM_JSON}, application/json`, 'user-agent': 'scim-bridge-doctor' };
      if (init.auth !== null) headers.authorization = `Bearer ${init.auth ?? token}`;
      if (body !== undefined) {
        headers['content-type'] = SCIM_JSON;
        headers['content-length'] = Buffer.byteLength(body);
      }
      const secure = parsed.protocol === 'https:';
      const req = (secure ? https : http).request(
        parsed,
        {
          method,
          headers,
          agent: init.plain ? false : agent,
          ...(secure && isIP(parsed.hostname.replace(/^\[|\]$/g, '')) === 0 ? { servername: parsed.hostname } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size <= 1024 * 1024) chunks.push(chunk);
          });
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = undefined;
            }
            resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, text, json });
          });
          res.on('error', reject);
        },
      );
      req.setTimeout(init.timeout ?? timeoutMs, () =>
        req.destroy(Object.assign(new Error(`no answer within ${init.timeout ?? timeoutMs} ms`), { code: 'ETIMEDOUT' })),
      );
      req.on('error', reject);
      req.end(body);
    });

  /** A bridge's SCIM error detail, or the start of the body. */
  const said = (res: Response) => {
    const detail = at(res.json, 'detail');
    const text = typeof detail === 'string' ? detail : res.text.replace(/\s+/g, ' ').trim();
    return text ? `: ${text.slice(0, 300)}` : '';
  };
  const unreachable = (error: unknown) => {
    const code = errorCode(error);
    if (code === 'ECONNREFUSED') return `connection refused at ${target.host}:${target.port}`;
    if (code === 'ETIMEDOUT') return `no answer from ${target.host}:${target.port} within ${timeoutMs / 1000} s`;
    if (code === 'ECONNRESET' || code === 'socket hang up') return `the connection was closed by ${target.host}:${target.port}`;
    return `${code} (${(error as Error)?.message ?? ''})`;
  };

  // 1. DNS, as the identity provider's resolver sees it.
  try {
    if (isIP(target.host)) {
      ok('dns', 'DNS', `${target.host} is an IP address (no lookup)`);
    } else {
      const addresses = await lookup(target.host, { all: true });
      ok('dns', 'DNS', `${target.host} resolves to ${addresses.map((a) => a.address).join(', ')}`);
    }
  } catch (error) {
    fail(
      'dns',
      'DNS',
      `${target.host} does not resolve (${errorCode(error)})`,
      'create the record the deploy printed (stack output dnsRecords / the alias record) and wait for it to propagate; check the spelling of the URL',
    );
    return finish();
  }

  // 2. TLS (or, for http://, whether the port really speaks plain HTTP).
  let tokenAllowed = true;
  if (target.secure) {
    if ((await checkTls()) === 'fail') {
      await checkRedirect();
      skip('rest', 'the other checks', 'not run: the token is only sent over HTTPS whose certificate verified');
      return finish();
    }
  } else {
    const speaksTls = await probeTls(target.host, target.port, Math.min(timeoutMs, 5000));
    if (speaksTls) {
      fail(
        'tls',
        'TLS',
        `http:// was given, but ${target.host}:${target.port} speaks TLS`,
        `use https://${target.url.host}${target.url.pathname.replace(/\/$/, '')} (identity providers must be given the https:// URL)`,
      );
      return finish();
    }
    if (options.allowHttp) {
      warn(
        'tls',
        'TLS',
        `plain HTTP to ${target.host}:${target.port}, allowed by --allow-http`,
        'only for loopback tests: identity providers must be given an https:// URL',
      );
    } else {
      fail(
        'tls',
        'TLS',
        `${target.url.origin} is plain HTTP: the bearer token would cross the network unencrypted, so doctor does not send it`,
        'give the https:// URL (the kit puts TLS in front on every cloud; on one machine set SCIM_TLS_CERT_FILE and SCIM_TLS_KEY_FILE); --allow-http for a loopback test',
      );
      tokenAllowed = false;
    }
  }

  // 3. Plain HTTP on port 80 should redirect to HTTPS, and never serve SCIM.
  if (target.secure) await checkRedirect();

  // 4. Probes (no token).
  try {
    const ping = await request('GET', `${target.root}${BRIDGE_PATHS.liveness}`, { auth: null });
    if (ping.status === 200 && at(ping.json, 'status') === 'ok') ok('ping', `GET ${BRIDGE_PATHS.liveness}`, 'the bridge answers (200)');
    else
      fail(
        'ping',
        `GET ${BRIDGE_PATHS.liveness}`,
        `answered ${ping.status}${said(ping)}`,
        'this URL does not reach a SCIM bridge: check the load balancer or platform routing and the URL',
      );
  } catch (error) {
    fail(
      'ping',
      `GET ${BRIDGE_PATHS.liveness}`,
      unreachable(error),
      'check that the service is running and that the firewall or security group allows HTTPS from the internet',
    );
    return finish();
  }
  try {
    const health = await request('GET', `${target.root}${BRIDGE_PATHS.readiness}`, { auth: null });
    const body = health.json;
    const tokens = at(body, 'session', 'tokens');
    if (health.status === 200 && at(body, 'status') === 'ok') {
      ok(
        'health',
        `GET ${BRIDGE_PATHS.readiness}`,
        `ready: version ${at(body, 'version') ?? '?'}, scimsession with ${plural(typeof tokens === 'number' ? tokens : 0, 'token')}, ${at(body, 'store', 'kind') ?? '?'} store ok`,
      );
    } else if (health.status === 503 && at(body, 'session') && at(body, 'store')) {
      const why = [
        !at(body, 'session', 'loaded') ? 'no scimsession loaded' : '',
        at(body, 'store', 'status') !== 'ok' ? `the ${at(body, 'store', 'kind')} store is ${at(body, 'store', 'status')}` : '',
      ]
        .filter(Boolean)
        .join(' and ');
      fail(
        'health',
        `GET ${BRIDGE_PATHS.readiness}`,
        `not ready (503): ${why || 'unavailable'}`,
        !at(body, 'session', 'loaded')
          ? 'put the scimsession into the secret the deploy created (see the stack output nextSteps); the bridge picks it up without a restart'
          : 'check the database: its status, the network path from the bridge and the credentials (the bridge logs say which)',
      );
    } else {
      fail('health', `GET ${BRIDGE_PATHS.readiness}`, `answered ${health.status}${said(health)}`, 'see the bridge logs');
    }
  } catch (error) {
    fail('health', `GET ${BRIDGE_PATHS.readiness}`, unreachable(error), 'check that the service is running');
  }

  if (!tokenAllowed) {
    skip('token', 'token', 'not sent: the connection is not verified HTTPS');
    return finish();
  }

  // 5. The token is accepted, and a wrong one (or none) refused.
  const users = `${target.scim}/Users`;
  let tokenWorks = false;
  try {
    const res = await request('GET', `${users}?count=1`);
    if (res.status === 200) {
      tokenWorks = true;
      ok('token', 'token accepted', 'GET /Users with the token: 200');
    } else if (res.status === 401) {
      fail(
        'token',
        'token accepted',
        `the bridge refused the token (401)${said(res)}`,
        'the token does not match this bridge\'s scimsession: use the token printed by "scim-bridge session create" (or rotate) for the scimsession this deployment loaded',
      );
    } else if (res.status === 429) {
      fail(
        'token',
        'token accepted',
        `rate limited (429, Retry-After ${res.headers['retry-after'] ?? '?'} s)`,
        'too many failed sign-ins from this address recently: wait and run doctor again',
      );
    } else {
      fail(
        'token',
        'token accepted',
        `GET /Users answered ${res.status}${said(res)}`,
        res.status === 404 ? 'the URL does not lead to the SCIM API: give the host or the …/scim/v2 URL' : 'see the bridge logs for this request',
      );
    }
  } catch (error) {
    fail('token', 'token accepted', unreachable(error), 'check that the service is running');
  }
  try {
    const wrong = await request('GET', `${users}?count=1`, { auth: `scimb_doctor_wrong_${randomBytes(18).toString('base64url')}` });
    const none = await request('GET', `${users}?count=1`, { auth: null });
    if (wrong.status === 401 && none.status === 401) {
      ok('token-refused', 'wrong token refused', 'a wrong token and no token both get 401');
    } else if (wrong.status === 429 || none.status === 429) {
      warn(
        'token-refused',
        'wrong token refused',
        'rate limited (429) before answering 401: the failed-sign-in limit is working',
        'run doctor again in a minute for a clean result',
      );
    } else {
      fail(
        'token-refused',
        'wrong token refused',
        `a wrong token got ${wrong.status} and no token got ${none.status}; both must be 401`,
        'anyone can read and change the directory: take the bridge off the internet and check what stands in front of it',
      );
    }
  } catch (error) {
    fail('token-refused', 'wrong token refused', unreachable(error));
  }

  // 6. Discovery, as identity providers read it when a connection is tested.
  await discovery('ServiceProviderConfig', (body) => {
    const schemas = at(body, 'schemas');
    if (!Array.isArray(schemas) || !schemas.includes(SPC_SCHEMA)) throw new Error(`no ${SPC_SCHEMA} in schemas`);
    if (at(body, 'patch', 'supported') !== true) throw new Error('patch.supported is not true: Okta and Entra ID update users with PATCH');
    const authenticationSchemes = at(body, 'authenticationSchemes');
    const bearer = Array.isArray(authenticationSchemes) && authenticationSchemes.some((s) => /oauthbearertoken/i.test(String(at(s, 'type') ?? '')));
    if (!bearer) throw new Error('authenticationSchemes lists no oauthbearertoken');
    const filter = at(body, 'filter', 'supported') ? `yes (max ${at(body, 'filter', 'maxResults') ?? '?'})` : 'no';
    return `PATCH yes, filter ${filter}, bulk ${at(body, 'bulk', 'supported') ? 'yes' : 'no'}, bearer token auth`;
  });
  await discovery('ResourceTypes', (body) => {
    const types = listOf(body).map((t) => `${at(t, 'name')} (${at(t, 'endpoint')})`);
    if (!listOf(body).some((t) => (at(t, 'id') ?? at(t, 'name')) === 'User')) throw new Error('no User resource type');
    if (!listOf(body).some((t) => (at(t, 'id') ?? at(t, 'name')) === 'Group')) throw new Error('no Group resource type');
    return types.join(', ');
  });
  await discovery('Schemas', (body) => {
    const ids = listOf(body).map((s) => at(s, 'id'));
    for (const id of [USER_SCHEMA, GROUP_SCHEMA]) if (!ids.includes(id)) throw new Error(`no ${id}`);
    return plural(ids.length, 'schema');
  });

  if (!tokenWorks) {
    skip('list', 'read-only list', 'skipped: the token was not accepted');
    if (options.writeCheck) skip('write', 'write check', 'skipped: the token was not accepted');
    return finish();
  }

  // 7. A read-only list and the look-up identity providers make before creating anyone.
  try {
    const list = await request('GET', `${users}?count=1`);
    const groups = await request('GET', `${target.scim}/Groups?count=1`);
    const probe = `scim-doctor-probe-${randomBytes(4).toString('hex')}@doctor.invalid`;
    const lookupRes = await request('GET', `${users}?filter=${encodeURIComponent(`userName eq "${probe}"`)}`);
    const problems = [
      listProblem('GET /Users?count=1', list),
      listProblem('GET /Groups?count=1', groups),
      listProblem('GET /Users?filter=userName eq', lookupRes) ??
        (at(lookupRes.json, 'totalResults') !== 0 ? `a filter for a user that does not exist found ${at(lookupRes.json, 'totalResults')}` : undefined),
    ].filter(Boolean);
    if (problems.length) {
      fail('list', 'read-only list', problems.join('; '), 'see the bridge logs for these requests');
    } else {
      // listProblem found both totals to be numbers.
      const total = (res: Response) => at(res.json, 'totalResults') as number;
      ok('list', 'read-only list', `${plural(total(list), 'user')}, ${plural(total(groups), 'group')}; filter look-up by userName works`);
    }
  } catch (error) {
    fail('list', 'read-only list', unreachable(error));
  }

  // 8. Optionally, the round trip a provisioning run makes, leaving nothing behind.
  if (options.writeCheck) await writeCheck();
  return finish();

  function finish(): DoctorReport {
    agent.destroy();
    const failures = checks.filter((c) => c.status === 'fail').length;
    return { url: options.url, scimBaseUrl: target.scim, ok: failures === 0, failures, warnings: checks.filter((c) => c.status === 'warn').length, checks };
  }

  async function checkTls(): Promise<'ok' | 'warn' | 'fail'> {
    const title = 'TLS';
    let socket: tls.TLSSocket;
    try {
      socket = await new Promise<tls.TLSSocket>((resolveSocket, reject) => {
        const s = tls.connect({
          host: target.host,
          port: target.port,
          ...(isIP(target.host) ? {} : { servername: target.host }),
          ca,
          // Inspect first, decide below: the token is never sent unless this verified.
          rejectUnauthorized: false,
          ALPNProtocols: ['http/1.1'],
        });
        s.setTimeout(timeoutMs, () => s.destroy(Object.assign(new Error('handshake timed out'), { code: 'ETIMEDOUT' })));
        s.once('secureConnect', () => resolveSocket(s));
        s.once('error', reject);
      });
    } catch (error) {
      const code = errorCode(error);
      const message = (error as Error)?.message ?? '';
      if (/wrong version number|packet length too long|http request/i.test(message) || code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
        fail(
          'tls',
          title,
          `${target.host}:${target.port} does not speak TLS (it answered like plain HTTP)`,
          `use http:// only if this really is a plain listener; identity providers need HTTPS: serve TLS (SCIM_TLS_CERT_FILE/SCIM_TLS_KEY_FILE) or put a TLS load balancer in front`,
        );
      } else if (/unsupported protocol|protocol version/i.test(message)) {
        fail('tls', title, `the server offers only TLS older than 1.2 (${message})`, 'enable TLS 1.2 and 1.3: identity providers refuse older versions');
      } else {
        fail('tls', title, `no TLS handshake: ${unreachable(error)}`, 'check that the service listens on this port and that the firewall allows it');
      }
      return 'fail';
    }
    const cert = socket.getPeerCertificate(false);
    const protocol = socket.getProtocol();
    const authorized = socket.authorized;
    const reason = socket.authorizationError ? String((socket.authorizationError as unknown as { code?: string })?.code ?? socket.authorizationError) : '';
    socket.destroy();
    const validTo = cert?.valid_to ? new Date(cert.valid_to) : undefined;
    const daysLeft = validTo ? Math.floor((validTo.getTime() - Date.now()) / DAY_MS) : NaN;
    const names = (cert?.subjectaltname ?? '')
      .replace(/DNS:|IP Address:/g, '')
      .split(/,\s*/)
      .filter(Boolean);
    const issuer = cert?.issuer?.O ?? cert?.issuer?.CN ?? 'unknown issuer';
    const until = validTo ? `${validTo.toISOString().slice(0, 10)} (${plural(daysLeft, 'day')})` : '?';
    const summary = `certificate for ${names.join(', ') || cert?.subject?.CN || '?'} from ${issuer}, valid until ${until}, ${protocol ?? '?'}`;
    if (!authorized) {
      if (reason === 'CERT_HAS_EXPIRED' || (validTo && daysLeft < 0)) {
        fail(
          'tls',
          title,
          `the certificate expired on ${validTo?.toISOString().slice(0, 10)} (${summary})`,
          'renew it; a bridge serving HTTPS itself picks up the renewed SCIM_TLS_CERT_FILE without a restart, a managed certificate needs its DNS record in place',
        );
      } else if (reason === 'ERR_TLS_CERT_ALTNAME_INVALID') {
        fail(
          'tls',
          title,
          `the certificate is not valid for ${target.host} (${summary})`,
          `issue the certificate for ${target.host}, or call the bridge by a name the certificate holds`,
        );
      } else if (reason === 'CERT_NOT_YET_VALID') {
        fail('tls', title, `the certificate is not valid yet (${summary})`, "check the server's and this machine's clocks");
      } else if (UNTRUSTED.has(reason)) {
        fail(
          'tls',
          title,
          `the certificate is not trusted: ${reason} (${summary})`,
          reason === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'
            ? `the issuer (${issuer}) is not a CA this machine trusts, or an intermediate is missing: serve the full chain (certificate, then intermediates) from a public CA; identity providers fetch no missing intermediates. To test a private CA, pass --ca FILE`
            : 'identity providers trust public CAs only: use a publicly trusted certificate (Let’s Encrypt, ACM, the cloud’s managed certificate). To test a private CA, pass --ca FILE',
        );
      } else {
        fail('tls', title, `the certificate did not verify: ${reason} (${summary})`, 'use a publicly trusted certificate for this host name');
      }
      return 'fail';
    }
    if (protocol !== 'TLSv1.3' && protocol !== 'TLSv1.2') {
      fail('tls', title, `negotiated ${protocol}: identity providers require TLS 1.2 or later`, 'enable TLS 1.2 and 1.3 on the listener');
      return 'fail';
    }
    if (daysLeft < warningDays) {
      warn(
        'tls',
        title,
        `the certificate expires in ${plural(daysLeft, 'day')} (${summary})`,
        'renew it now (managed certificates renew themselves: check that the DNS record still points at the service)',
      );
      return 'warn';
    }
    ok('tls', title, summary);
    return 'ok';
  }

  async function checkRedirect(): Promise<void> {
    const title = 'HTTP→HTTPS';
    const port = options.httpPort ?? 80;
    const hostPart = isIP(target.host) === 6 ? `[${target.host}]` : target.host;
    const plainUrl = `http://${hostPart}${port === 80 ? '' : `:${port}`}${new URL(target.scim).pathname}/ServiceProviderConfig`;
    let res: Response;
    try {
      // Never the token: this is the plain-text path.
      res = await request('GET', plainUrl, { auth: null, plain: true, timeout: Math.min(timeoutMs, 5000) });
    } catch (error) {
      const code = errorCode(error);
      const closed = code === 'ECONNREFUSED' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH';
      if (closed) {
        warn(
          'http-redirect',
          title,
          `port ${port} is closed (${code}): an identity provider given http:// fails instead of being redirected`,
          'fine if everyone is given the https:// URL; otherwise open port 80 with a redirect to HTTPS',
        );
      } else if (/ECONNRESET|hang up|HPE_/i.test(code + ((error as Error)?.message ?? ''))) {
        warn(
          'http-redirect',
          title,
          `port ${port} closed the connection on a plain HTTP request (${code})`,
          'it is likely a TLS-only listener: no SCIM in plain text, but no redirect either',
        );
      } else {
        warn('http-redirect', title, `port ${port}: ${unreachable(error)}`);
      }
      return;
    }
    const location = typeof res.headers.location === 'string' ? res.headers.location : '';
    if (res.status >= 300 && res.status < 400 && location) {
      let next: URL | undefined;
      try {
        next = new URL(location, plainUrl);
      } catch {
        next = undefined;
      }
      if (next?.protocol === 'https:' && next.hostname.replace(/^\[|\]$/g, '') === target.host)
        ok('http-redirect', title, `port ${port} redirects to ${next.origin} (${res.status})`);
      else if (next?.protocol === 'https:')
        warn('http-redirect', title, `port ${port} redirects to another host: ${next.origin}`, `redirect to https://${target.host}`);
      else fail('http-redirect', title, `port ${port} redirects to ${location}, not to HTTPS`, "redirect plain HTTP to https:// (the kit's load balancers do)");
      return;
    }
    const looksScim =
      /scim\+json/i.test(String(res.headers['content-type'] ?? '')) ||
      arrayOf(at(res.json, 'schemas')).some((s) => typeof s === 'string' && s.startsWith('urn:ietf:params:scim:')) ||
      /bearer/i.test(String(res.headers['www-authenticate'] ?? ''));
    if (looksScim) {
      fail(
        'http-redirect',
        title,
        `port ${port} serves SCIM in plain text (${res.status} without a redirect): a token sent there crosses the network unencrypted`,
        'answer plain HTTP with a redirect to HTTPS, or close port 80',
      );
    } else {
      warn(
        'http-redirect',
        title,
        `port ${port} answers ${res.status} without redirecting to HTTPS`,
        'redirect plain HTTP to https:// so an identity provider given http:// is sent to the right place',
      );
    }
  }

  async function discovery(resource: string, inspect: (body: unknown) => string): Promise<void> {
    const title = `GET /${resource}`;
    try {
      const res = await request('GET', `${target.scim}/${resource}`);
      if (res.status !== 200) {
        fail(
          `discovery-${resource}`,
          title,
          `answered ${res.status}${said(res)}`,
          'identity providers read this when a connection is tested: see the bridge logs',
        );
        return;
      }
      if (res.json === undefined) {
        fail(
          `discovery-${resource}`,
          title,
          `the answer is not JSON (${String(res.headers['content-type'] ?? 'no content type')})`,
          'something in front of the bridge answers instead of it',
        );
        return;
      }
      ok(`discovery-${resource}`, title, inspect(res.json));
    } catch (error) {
      fail(
        `discovery-${resource}`,
        title,
        error instanceof Error && !('code' in error) ? error.message : unreachable(error),
        'the bridge must describe itself as RFC 7643 section 5 says',
      );
    }
  }

  async function writeCheck(): Promise<void> {
    const domain = (options.writeCheckDomain ?? 'doctor.invalid').replace(/^@/, '').toLowerCase();
    const name = `scim-doctor-${randomBytes(5).toString('hex')}`;
    const userName = `${name}@${domain}`;
    let id: string | undefined;
    let deleted = false;
    let createUnknown = false;
    try {
      let res: Response;
      try {
        res = await request('POST', users, {
          body: {
            schemas: [USER_SCHEMA],
            userName,
            externalId: name,
            name: { givenName: 'SCIM', familyName: 'Doctor' },
            displayName: 'scim-bridge doctor test user (safe to delete)',
            emails: [{ value: userName, type: 'work', primary: true }],
            active: true,
          },
        });
      } catch (error) {
        createUnknown = true; // it may have been created before the answer was lost
        throw error;
      }
      const createdId = at(res.json, 'id');
      if (res.status !== 201 || typeof createdId !== 'string') {
        if (res.status >= 500) createUnknown = true;
        const domainRule = res.status === 400 && /allowed email domain/i.test(String(at(res.json, 'detail') ?? ''));
        fail(
          'write-create',
          'create test user',
          `POST /Users answered ${res.status}${said(res)}`,
          domainRule
            ? 'pass --write-check-domain with one of the allowed domains (the test user is scim-doctor-…@that domain)'
            : 'see the bridge logs for this request',
        );
        return;
      }
      id = createdId;
      ok('write-create', 'create test user', `created ${userName} (id ${id})`);

      const read = await request('GET', `${users}/${encodeURIComponent(id)}`);
      const found = await request('GET', `${users}?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
      if (read.status === 200 && at(read.json, 'userName') === userName && at(found.json, 'totalResults') === 1)
        ok('write-read', 'read it back', 'by id and by a userName filter');
      else
        fail(
          'write-read',
          'read it back',
          `GET by id answered ${read.status}, the filter found ${at(found.json, 'totalResults') ?? found.status}`,
          'a created user must be found by its userName, or identity providers create duplicates',
        );

      const patch = await request('PATCH', `${users}/${encodeURIComponent(id)}`, {
        body: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', value: { active: false } }] },
      });
      if (patch.status === 200 && at(patch.json, 'active') === false)
        ok('write-deactivate', 'deactivate (PATCH active=false)', 'suspended, as identity providers deprovision');
      else if (patch.status === 204) ok('write-deactivate', 'deactivate (PATCH active=false)', 'accepted (204)');
      else fail('write-deactivate', 'deactivate (PATCH active=false)', `answered ${patch.status}${said(patch)}`, 'see the bridge logs for this request');

      const del = await request('DELETE', `${users}/${encodeURIComponent(id)}`);
      const gone = await request('GET', `${users}/${encodeURIComponent(id)}`);
      if ((del.status === 204 || del.status === 200) && gone.status === 404) {
        deleted = true;
        ok('write-delete', 'delete test user', 'deleted; a read now answers 404');
      } else {
        fail('write-delete', 'delete test user', `DELETE answered ${del.status}, a read after it ${gone.status}`, 'see the bridge logs for this request');
      }
    } catch (error) {
      fail('write', 'write check', unreachable(error));
    } finally {
      await cleanUp();
    }

    /** Whatever failed above, the test user must not stay. */
    async function cleanUp(): Promise<void> {
      if (deleted) return;
      if (!id && !createUnknown) return;
      try {
        const ids = new Set<string>(id ? [id] : []);
        const found = await request('GET', `${users}?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
        for (const r of listOf(found.json)) {
          const each = at(r, 'id');
          if (typeof each === 'string') ids.add(each);
        }
        const left: string[] = [];
        for (const each of ids) {
          const res = await request('DELETE', `${users}/${encodeURIComponent(each)}`);
          if (res.status !== 204 && res.status !== 200 && res.status !== 404) left.push(each);
        }
        if (left.length) {
          fail(
            'write-cleanup',
            'clean up',
            `could not delete the test user ${userName} (id ${left.join(', ')})`,
            `delete it by hand: DELETE ${users}/${left[0]} with the token`,
          );
        } else if (ids.size) {
          ok('write-cleanup', 'clean up', `removed the test user ${userName} after the failure above`);
        }
      } catch (error) {
        fail(
          'write-cleanup',
          'clean up',
          `could not check for the test user ${userName}: ${unreachable(error)}`,
          `look it up with filter=userName eq "${userName}" and delete it`,
        );
      }
    }
  }
}

const arrayOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** The items of a list answer: a bare array or a ListResponse's Resources (nothing for anything else). */
function listOf(body: unknown): unknown[] {
  return Array.isArray(body) ? body : arrayOf(at(body, 'Resources'));
}

function listProblem(what: string, res: Response): string | undefined {
  if (res.status !== 200) return `${what} answered ${res.status}`;
  if (!arrayOf(at(res.json, 'schemas')).includes(LIST_SCHEMA) || typeof at(res.json, 'totalResults') !== 'number') return `${what} is not a SCIM ListResponse`;
  return undefined;
}

async function probeTls(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolveProbe) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false, ...(isIP(host) ? {} : { servername: host }) });
    const done = (result: boolean) => {
      socket.destroy();
      resolveProbe(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', skip: 'skip' };

/** One line per check (and an indented line with what to do). */
export function formatCheck(check: CheckResult): string[] {
  const lines = [`  ${MARK[check.status]}  ${check.title.padEnd(28)} ${check.detail}`];
  if (check.hint && (check.status === 'fail' || check.status === 'warn')) lines.push(`${' '.repeat(37)}→ ${check.hint}`);
  return lines;
}

export function formatSummary(report: DoctorReport): string {
  const counted = report.checks.filter((c) => c.status !== 'skip').length;
  return `${plural(counted, 'check')}: ${report.checks.filter((c) => c.status === 'ok').length} ok, ${plural(report.warnings, 'warning')}, ${plural(report.failures, 'failure')}`;
}

export const DOCTOR_HELP = `scim-bridge doctor URL [--token T | --token-file FILE] [--ca FILE] [--write-check] [options]

Checks a deployed bridge the way an identity provider reaches it, one line per check, and exits 1 when any
check fails: DNS, the TLS certificate (trusted, for this host, not expiring within 21 days), HTTP→HTTPS on
port 80, /ping and /health, the token accepted and a wrong one refused, the discovery endpoints, a read-only
list, and with --write-check a create/read/deactivate/delete round trip of a test user named
scim-doctor-<random>@<domain> that is removed even when a step fails.

URL                       the host (https://scim.example.com) or the SCIM base URL (…/scim/v2)
--token T                 the bearer token (visible in the process list: prefer the next two)
--token-file FILE         read the token from a file
${DOCTOR_ENV.token}         or the environment variable (pipelines: set it from a secret)
--ca FILE                 also trust this CA (PEM), e.g. a private CA in a test
--write-check             also create and delete a test user
--write-check-domain D    the test user's email domain (default doctor.invalid; must pass SCIM_ALLOWED_DOMAINS)
--http-port N             the plain-HTTP port to check for a redirect (default 80)
--allow-http              accept an http:// URL and send the token over it (loopback tests only)
--timeout SECONDS         per request (default 10)
--json                    machine-readable report on stdout

The token is never printed, and never sent over plain HTTP or a connection whose certificate did not verify.`;

/** The CLI entry: parses arguments, prints as checks finish, throws (exit 1) when any check failed. */
export async function doctorCommand(args: string[], out: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      token: { type: 'string' },
      'token-file': { type: 'string' },
      ca: { type: 'string' },
      'write-check': { type: 'boolean', default: false },
      'write-check-domain': { type: 'string' },
      'http-port': { type: 'string' },
      'allow-http': { type: 'boolean', default: false },
      timeout: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    out(DOCTOR_HELP);
    return;
  }
  if (positionals.length !== 1)
    throw new DoctorUsageError('doctor needs one URL, e.g. scim-bridge doctor https://scim.example.com --token-file token (see scim-bridge doctor --help)');
  let token = values.token;
  if (token === undefined && values['token-file'] !== undefined) {
    try {
      token = readFileSync(values['token-file'], 'utf8').trim();
    } catch (error) {
      throw new DoctorUsageError(`cannot read --token-file ${values['token-file']} (${errorCode(error)})`);
    }
  }
  token ??= env[DOCTOR_ENV.token]?.trim();
  if (!token) throw new DoctorUsageError(`doctor needs the bearer token: --token T, --token-file FILE or ${DOCTOR_ENV.token}`);
  if (/\s/.test(token)) throw new DoctorUsageError('the token has white space in it: pass the token alone');
  let ca: Buffer | undefined;
  if (values.ca !== undefined) {
    try {
      ca = readFileSync(values.ca);
    } catch (error) {
      throw new DoctorUsageError(`cannot read --ca ${values.ca} (${errorCode(error)})`);
    }
    if (!/-----BEGIN CERTIFICATE-----/.test(ca.toString())) throw new DoctorUsageError(`--ca ${values.ca} holds no PEM certificate`);
  }
  const number = (name: string, raw: string | undefined, min: number, max: number) => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) throw new DoctorUsageError(`--${name} must be a number from ${min} to ${max} (got "${raw}")`);
    return n;
  };
  const httpPort = number('http-port', values['http-port'], 1, 65535);
  const timeout = number('timeout', values.timeout, 0.1, 300);
  if (values['write-check-domain'] !== undefined && !values['write-check']) throw new DoctorUsageError('--write-check-domain only applies with --write-check');

  const json = values.json;
  const target = parseTarget(positionals[0]);
  if (!json) out(`scim-bridge doctor: ${target.scim}`);
  const report = await runDoctor({
    url: positionals[0],
    token,
    ca,
    writeCheck: values['write-check'],
    writeCheckDomain: values['write-check-domain'],
    httpPort,
    allowHttp: values['allow-http'],
    timeoutMs: timeout === undefined ? undefined : timeout * 1000,
    onCheck: json
      ? undefined
      : (check) => {
          for (const line of formatCheck(check)) out(line);
        },
  });
  if (json) out(JSON.stringify(report, null, 2));
  else out(formatSummary(report));
  if (!report.ok) throw new Error(`doctor: ${plural(report.failures, 'check')} failed`);
}
