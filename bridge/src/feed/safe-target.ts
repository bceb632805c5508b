/**
 * Where a webhook may go, and the one HTTP request that delivers it. A webhook URL is chosen by whoever registers
 * it, and the bridge runs inside the operator's network: without these checks it is a way to make the bridge call
 * the cloud's metadata service or an internal admin port (server-side request forgery).
 *
 * - `https` only; plain `http` only to a loopback address, and only with SCIM_WEBHOOKS_ALLOW_LOOPBACK=true.
 * - Loopback, private, shared (100.64/10), link-local (which holds 169.254.169.254 and fd00:ec2::254, the metadata
 *   services), unique-local, multicast and reserved addresses are refused, in IPv4, IPv6 and IPv4-mapped IPv6 form,
 *   unless SCIM_WEBHOOKS_ALLOW_PRIVATE lists a CIDR holding them (loopback: SCIM_WEBHOOKS_ALLOW_LOOPBACK).
 * - The address is checked where the connection is made (a `lookup` of our own on the request), not when the URL
 *   is registered: a DNS answer can change between the check and the connection (DNS rebinding).
 * - Redirects are not followed (a 3xx is a failed delivery); at most RESPONSE_BYTES of the answer are read; the
 *   connection and the whole exchange are bounded in time.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';

export interface TargetPolicy {
  /** Loopback addresses (and plain http to them) are allowed: one machine, tests. */
  readonly allowLoopback: boolean;
  /** Private addresses the operator allows (SCIM_WEBHOOKS_ALLOW_PRIVATE). */
  readonly allowPrivate: BlockList;
  /** Extra trusted CA certificates (PEM) for https targets; tests use a CA they make. @default the system's */
  readonly ca?: string | readonly string[];
}

/** A URL or an address that may not be a webhook target: the message says why and what to set. */
export class UnsafeTarget extends Error {}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

const REFUSED = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  REFUSED.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['100::', 64],
  ['2001:db8::', 32],
] as const) {
  REFUSED.addSubnet(network, prefix, 'ipv6');
}

/** `::ffff:10.0.0.1` and `::ffff:a00:1` are IPv4 addresses in IPv6 clothing: judged as the IPv4 address they carry. */
export function unmapped(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const bare = address.replace(/^\[|\]$/g, '');
  const dotted = /^(?:0{0,4}:){0,5}:?ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(bare);
  if (dotted) return { address: dotted[1], family: 'ipv4' };
  const hex = /^(?:0{0,4}:){0,5}:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(bare);
  if (hex) {
    const high = parseInt(hex[1], 16);
    const low = parseInt(hex[2], 16);
    return { address: `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`, family: 'ipv4' };
  }
  return { address: bare, family: isIP(bare) === 4 ? 'ipv4' : 'ipv6' };
}

/** Comma-separated CIDRs (SCIM_WEBHOOKS_ALLOW_PRIVATE), e.g. `10.20.0.0/16,fd12::/16`. */
export function parseCidrs(text: string | undefined): BlockList {
  const list = new BlockList();
  for (const item of (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const match = /^([^/]+)\/(\d{1,3})$/.exec(item);
    const family = match ? isIP(match[1]) : 0;
    const prefix = match ? Number(match[2]) : -1;
    if (!match || family === 0 || prefix > (family === 4 ? 32 : 128)) throw new UnsafeTarget(`"${item}" is not a CIDR such as 10.20.0.0/16 or fd12::/16`);
    list.addSubnet(match[1], prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

/** Why `address` may not be connected to, or undefined when it may. */
export function refusal(address: string, policy: TargetPolicy): string | undefined {
  const { address: ip, family } = unmapped(address);
  if (policy.allowPrivate.check(ip, family)) return undefined;
  if (LOOPBACK.check(ip, family)) {
    return policy.allowLoopback ? undefined : `${address} is a loopback address (allowed only with SCIM_WEBHOOKS_ALLOW_LOOPBACK=true)`;
  }
  if (REFUSED.check(ip, family))
    return `${address} is a private, link-local or reserved address (allow its range in SCIM_WEBHOOKS_ALLOW_PRIVATE if it is meant)`;
  return undefined;
}

const LOOPBACK_NAME = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i;

/** Checks a webhook URL's form (where it resolves to is checked at each connection). Returns the parsed URL. */
export function checkTargetUrl(text: string, policy: Pick<TargetPolicy, 'allowLoopback' | 'allowPrivate'>): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UnsafeTarget(`"${text}" is not a URL`);
  }
  if (url.username || url.password) throw new UnsafeTarget('a webhook URL may not hold credentials (the signature authenticates the bridge)');
  if (url.hash) throw new UnsafeTarget('a webhook URL may not have a #fragment');
  if (url.protocol === 'http:') {
    if (!policy.allowLoopback || !LOOPBACK_NAME.test(url.hostname)) {
      throw new UnsafeTarget(
        `${url.origin} is plain http: webhooks go over https (plain http only to 127.0.0.1, localhost or [::1] with SCIM_WEBHOOKS_ALLOW_LOOPBACK=true)`,
      );
    }
  } else if (url.protocol !== 'https:') {
    throw new UnsafeTarget(`${url.protocol} is not a webhook scheme; use https://`);
  }
  if (isIP(url.hostname.replace(/^\[|\]$/g, ''))) {
    const reason = refusal(url.hostname, { ...policy });
    if (reason) throw new UnsafeTarget(reason);
  }
  return url;
}

/** How much of an answer is read: enough for a status line's worth of error detail, never a whole page. */
export const RESPONSE_BYTES = 4096;

export interface PostOptions {
  /** From the request to the connection (TCP, and TLS for https). @default 5000 */
  readonly connectTimeoutMs?: number;
  /** The whole exchange, from the request to the last byte read. @default 15000 */
  readonly timeoutMs?: number;
  readonly agent?: http.Agent;
}

export interface PostResult {
  /** The HTTP status, when an answer came. */
  readonly status?: number;
  readonly headers?: http.IncomingHttpHeaders;
  /** At most RESPONSE_BYTES of the body, as text. */
  readonly body?: string;
  /** What went wrong before an answer came (refused address, timeout, TLS, connection). */
  readonly error?: string;
  readonly ms: number;
}

/** A DNS lookup that answers only with addresses the policy allows (checked per connection). */
export function guardedLookup(policy: TargetPolicy, plainHttp: boolean): NonNullable<http.RequestOptions['lookup']> {
  return ((hostname: string, options: { all?: boolean; family?: number }, callback: (...args: unknown[]) => void) => {
    dnsLookup(hostname, { all: true, family: options?.family ?? 0 }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error);
      const reasons: string[] = [];
      const allowed = addresses.filter((entry) => {
        const reason =
          plainHttp && !LOOPBACK.check(unmapped(entry.address).address, unmapped(entry.address).family)
            ? `${entry.address} is not loopback (plain http goes to loopback only)`
            : refusal(entry.address, policy);
        if (reason) reasons.push(reason);
        return !reason;
      });
      if (allowed.length === 0) {
        const refused = Object.assign(new UnsafeTarget(`${hostname} resolves only to refused addresses: ${reasons.join('; ')}`), { code: 'EUNSAFETARGET' });
        return callback(refused);
      }
      if (options?.all) return callback(null, allowed);
      callback(null, allowed[0].address, allowed[0].family);
    });
  }) as never;
}

/** POSTs `body` to `url`: one attempt, no redirects followed, bounded in bytes read and time. Never throws. */
export function postWebhook(url: URL, headers: Record<string, string>, body: string, policy: TargetPolicy, options: PostOptions = {}): Promise<PostResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const plainHttp = url.protocol === 'http:';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // An IP literal is connected to without a lookup: judged here instead.
  if (isIP(host)) {
    const reason =
      plainHttp && !LOOPBACK.check(unmapped(host).address, unmapped(host).family)
        ? `${host} is not loopback (plain http goes to loopback only)`
        : refusal(host, policy);
    if (reason) return Promise.resolve({ error: reason, ms: elapsed() });
  }
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Omit<PostResult, 'ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(total);
      clearTimeout(connect);
      resolve({ ...result, ms: elapsed() });
    };
    const request = (plainHttp ? http : https).request(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      lookup: guardedLookup(policy, plainHttp),
      agent: options.agent,
      ...(!plainHttp && policy.ca ? { ca: policy.ca as string[] } : {}),
      maxHeaderSize: 16 * 1024,
    });
    const fail = (message: string) => {
      finish({ error: message });
      request.destroy();
    };
    const total = setTimeout(() => fail(`no answer within ${options.timeoutMs ?? 15_000} ms`), options.timeoutMs ?? 15_000);
    const connect = setTimeout(() => fail(`no connection within ${options.connectTimeoutMs ?? 5_000} ms`), options.connectTimeoutMs ?? 5_000);
    request.on('socket', (socket) => {
      // A pooled socket is connected already; a new one clears the connect timer once TCP (and TLS) is up.
      if (!socket.connecting && !(socket as { pending?: boolean }).pending) clearTimeout(connect);
      socket.once(plainHttp ? 'connect' : 'secureConnect', () => clearTimeout(connect));
    });
    request.on('error', (error) => finish({ error: (error as Error).message }));
    request.on('response', (response) => {
      clearTimeout(connect);
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () =>
        finish({ status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks).toString('utf8').slice(0, RESPONSE_BYTES) });
      response.on('data', (chunk: Buffer) => {
        if (size < RESPONSE_BYTES) chunks.push(chunk.subarray(0, RESPONSE_BYTES - size));
        size += chunk.length;
        // Enough read: the rest is not wanted, and the connection is not reused.
        if (size > RESPONSE_BYTES) {
          done();
          response.destroy();
          request.destroy();
        }
      });
      response.on('end', done);
      response.on('error', done);
      response.on('aborted', done);
    });
    request.end(body);
  });
}
