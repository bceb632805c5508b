/**
 * Standard Webhooks signatures: `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed by the
 * bytes a `whsec_<base64>` secret encodes. Consumers verify with the specification's reference implementation (the
 * `standardwebhooks` package) or svix's verifier; the tests check every delivery with the former.
 */
import { createHmac, randomBytes } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';
/** 24 random bytes: the specification asks for 24 to 64. */
const SECRET_BYTES = 24;

/** A mistake in a signing secret; the message never holds the secret itself. */
export class SecretError extends Error {}

/** A new endpoint's signing secret. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

/** The HMAC key a `whsec_…` secret encodes. */
export function secretKey(secret: string): Buffer {
  if (typeof secret !== 'string' || !secret.startsWith(SECRET_PREFIX)) throw new SecretError(`a signing secret must start with ${SECRET_PREFIX}`);
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0)
    throw new SecretError(`a signing secret must be ${SECRET_PREFIX} followed by base64`);
  const key = Buffer.from(encoded, 'base64');
  if (key.length < 24 || key.length > 64) throw new SecretError(`a signing secret must encode 24 to 64 bytes (got ${key.length})`);
  return key;
}

export interface SignedHeaders {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
}

/** The three Standard Webhooks headers for `body`, sent at `at` (seconds since the epoch go in the header). */
export function signDelivery(key: Buffer, id: string, body: string, at: Date): SignedHeaders {
  const timestamp = String(Math.floor(at.getTime() / 1000));
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
}
