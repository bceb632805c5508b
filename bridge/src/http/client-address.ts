/** Which client a request comes from, for the failed-authentication limit and the provisioning events (see trust-proxy.ts). */
import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';

/** The client's address as the setting defines it; never a string a client made up. */
export function clientAddress(request: FastifyRequest): string {
  const address = request.ip;
  if (address && isIP(address)) return address;
  // An X-Forwarded-For entry that is not an address: fall back to the peer that sent it.
  return request.socket.remoteAddress ?? 'unknown';
}
