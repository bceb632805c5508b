/** Helpers for the operations suites: raw HTTP over a socket (to hold a request open), polling. */
import { type Socket, connect } from 'node:net';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';

export const userBody = (userName: string, extra: Record<string, unknown> = {}) => ({
  schemas: [USER_SCHEMA],
  userName,
  name: { givenName: 'Grace', familyName: 'Hopper' },
  emails: [{ value: userName, type: 'work', primary: true }],
  active: true,
  ...extra,
});

export interface HeldRequest {
  readonly socket: Socket;
  /** Sends the rest of the body; resolves with the status line's code and the raw response. */
  finish(): Promise<{ status: number; raw: string }>;
}

/**
 * Starts a POST whose body is only partly sent: the server has the headers (the request is in flight) and
 * waits for the rest until finish() sends it.
 */
export async function holdRequest(url: string, path: string, token: string, body: unknown): Promise<HeldRequest> {
  const { hostname, port } = new URL(url);
  const payload = Buffer.from(JSON.stringify(body));
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let raw = '';
  const ended = new Promise<string>((resolve, reject) => {
    socket.on('data', (chunk) => {
      raw += chunk.toString('utf8');
    });
    socket.on('end', () => resolve(raw));
    socket.on('close', () => resolve(raw));
    socket.on('error', reject);
  });
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Type: application/scim+json\r\nContent-Length: ${payload.length}\r\nConnection: close\r\n\r\n`,
  );
  socket.write(payload.subarray(0, 10));
  return {
    socket,
    async finish() {
      socket.write(payload.subarray(10));
      const text = await ended;
      return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), raw: text };
    },
  };
}

/** Polls `check` until it returns a truthy value or the time is up. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 10_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
