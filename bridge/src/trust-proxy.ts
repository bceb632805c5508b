/**
 * `SCIM_TRUST_PROXY`, read by the configuration and applied by the HTTP edge (http/client-address.ts).
 * It names the proxies whose `X-Forwarded-For` the bridge believes:
 *
 * - unset, empty or `0`/`false`/`none`: none. The socket's address is the client's; `X-Forwarded-For` is ignored.
 * - a number of hops, e.g. `1` behind one load balancer: the address that many hops back along `X-Forwarded-For`
 *   (with `1`, its right-most entry: the one the load balancer appended). Only right when nothing but the proxy
 *   can reach the bridge, as on every cloud here (the ALB, Cloud Run, App Platform and Container Apps ingress).
 * - a comma-separated list of addresses and CIDRs (IPv4 and IPv6), or `loopback`, `linklocal`, `uniquelocal`:
 *   hops from those addresses are trusted, the first address outside them is the client.
 *
 * Fastify's own numeric `trustProxy` trusts nothing since 5.x (it cannot check the peer), so the bridge passes
 * a function that does what the setting says.
 */
import { BlockList, isIP } from 'node:net';

export type TrustProxy =
  | { readonly kind: 'none' }
  | { readonly kind: 'hops'; readonly hops: number }
  | { readonly kind: 'cidrs'; readonly ranges: readonly string[] };

/** Trust-proxy function in Fastify's (and proxy-addr's) shape: is the hop `index` away, at `address`, a proxy? */
export type TrustFunction = (address: string, index: number) => boolean;

const NAMED_RANGES: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

export class TrustProxyError extends Error {}

/** Reads the setting; throws TrustProxyError naming what is wrong. */
export function parseTrustProxy(raw: string | undefined): TrustProxy {
  const text = (raw ?? '').trim().toLowerCase();
  if (text === '' || text === '0' || text === 'false' || text === 'none') return { kind: 'none' };
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (hops > 32) throw new TrustProxyError(`a hop count of at most 32 (got ${hops})`);
    return { kind: 'hops', hops };
  }
  if (text === 'true' || text === '*') {
    throw new TrustProxyError('a number of hops or a list of CIDRs: trusting every X-Forwarded-For lets any client choose its address');
  }
  const ranges: string[] = [];
  for (const item of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (NAMED_RANGES[item]) {
      ranges.push(...NAMED_RANGES[item]);
      continue;
    }
    const [address, prefix, extra] = item.split('/');
    const family = isIP(address);
    const max = family === 6 ? 128 : 32;
    if (!family || extra !== undefined || (prefix !== undefined && (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max))) {
      throw new TrustProxyError(`addresses or CIDRs such as 10.0.0.0/8 or fd00::/8, or loopback, linklocal, uniquelocal (got "${item}")`);
    }
    ranges.push(prefix === undefined ? `${address}/${max}` : item);
  }
  if (!ranges.length) return { kind: 'none' };
  return { kind: 'cidrs', ranges };
}

/** An IPv4 client of a dual-stack socket shows as `::ffff:a.b.c.d`: compare it as IPv4. */
function normalize(address: string): { address: string; family: 'ipv4' | 'ipv6' } | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return { address: mapped[1], family: 'ipv4' };
  const family = isIP(address);
  if (family === 4) return { address, family: 'ipv4' };
  if (family === 6) return { address, family: 'ipv6' };
  return undefined;
}

/** The function Fastify's `trustProxy` takes, or false for none. */
export function trustFunction(trust: TrustProxy): TrustFunction | false {
  if (trust.kind === 'none') return false;
  if (trust.kind === 'hops') {
    const { hops } = trust;
    return (_address, index) => index < hops;
  }
  const list = new BlockList();
  for (const range of trust.ranges) {
    const [address, prefix] = range.split('/');
    const ip = normalize(address)!;
    list.addSubnet(ip.address, Number(prefix), ip.family);
  }
  return (address) => {
    const ip = normalize(address);
    return ip !== undefined && list.check(ip.address, ip.family);
  };
}
