/**
 * The fuzzer's two ways of talking to the bridge: node:http on a keep-alive connection per client lane (for
 * well-formed HTTP, including slow bodies), and a raw socket for what an HTTP library refuses to send
 * (malformed request lines and headers, bad chunking, pipelining, abandoned bodies). Both return what came back
 * and how long it took; neither throws.
 */
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';

export interface Exchange {
  /** 0 when no answer came. */
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  readonly ms: number;
  /** Why no (complete) answer came: a socket error code, 'timeout', or 'closed'. */
  readonly error?: string;
  /** Further answers on the same raw connection (pipelining). */
  readonly more?: readonly { status: number; body: string; headers: Record<string, string> }[];
}

export interface HttpSend {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string | Buffer;
  /** Writes the body in pieces with a pause between them. */
  readonly slow?: { readonly pieces: number; readonly pauseMs: number };
  readonly timeoutMs: number;
}

export function keepAliveAgent(sockets = 1): Agent {
  return new Agent({ keepAlive: true, maxSockets: sockets, keepAliveMsecs: 1000 });
}

export function sendHttp(port: number, agent: Agent, send: HttpSend): Promise<Exchange> {
  const started = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (exchange: Omit<Exchange, 'ms'>) => {
      if (done) return;
      done = true;
      resolve({ ...exchange, ms: performance.now() - started });
    };
    let req: ReturnType<typeof httpRequest>;
    try {
      req = httpRequest({ host: '127.0.0.1', port, method: send.method, path: send.path, headers: send.headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => finish({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (error: NodeJS.ErrnoException) =>
          finish({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), error: error.code ?? error.message }),
        );
      });
    } catch (error) {
      finish({ status: 0, headers: {}, body: '', error: `client refused to send: ${(error as Error).message}` });
      return;
    }
    req.setTimeout(send.timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.on('error', (error: NodeJS.ErrnoException) => finish({ status: 0, headers: {}, body: '', error: error.code ?? error.message }));
    const body = send.body === undefined ? undefined : Buffer.isBuffer(send.body) ? send.body : Buffer.from(send.body, 'utf8');
    if (!body || !send.slow) {
      req.end(body);
      return;
    }
    const size = Math.ceil(body.length / send.slow.pieces);
    let offset = 0;
    const next = () => {
      if (done || req.destroyed) return;
      const piece = body.subarray(offset, offset + size);
      offset += size;
      if (offset >= body.length) req.end(piece);
      else {
        req.write(piece);
        setTimeout(next, send.slow!.pauseMs);
      }
    };
    next();
  });
}

export interface RawSend {
  /** Written in order, with `pauseMs` between pieces. */
  readonly pieces: readonly (string | Buffer)[];
  readonly pauseMs?: number;
  /** Close the socket after writing, without waiting for an answer (an abandoned request). */
  readonly abandon?: boolean;
  /** How many answers to wait for (pipelining); the first is the exchange's status. @default 1 */
  readonly answers?: number;
  readonly timeoutMs: number;
}

interface Parsed {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Bytes of the buffer this answer used, or -1 while incomplete. */
  used: number;
}

/** One HTTP/1.1 answer at the start of `data`, or undefined while it is incomplete. */
function parseAnswer(data: Buffer, closed: boolean): Parsed | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = data.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0])?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const start = end + 4;
  if (status === 100) return { status, headers, body: '', used: start };
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
    let at = start;
    const parts: Buffer[] = [];
    for (;;) {
      const line = data.indexOf('\r\n', at);
      if (line < 0) return undefined;
      const size = Number.parseInt(data.subarray(at, line).toString('latin1'), 16);
      if (!Number.isFinite(size)) return { status, headers, body: '', used: data.length };
      if (size === 0) {
        const trailer = data.indexOf('\r\n', line + 2);
        if (trailer < 0) return undefined;
        return { status, headers, body: Buffer.concat(parts).toString('utf8'), used: trailer + 2 };
      }
      if (data.length < line + 2 + size + 2) return undefined;
      parts.push(data.subarray(line + 2, line + 2 + size));
      at = line + 2 + size + 2;
    }
  }
  const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
  if (length === undefined) {
    if (status === 204 || status === 304) return { status, headers, body: '', used: start };
    if (!closed) return undefined;
    return { status, headers, body: data.subarray(start).toString('utf8'), used: data.length };
  }
  if (data.length < start + length) return closed ? { status, headers, body: data.subarray(start).toString('utf8'), used: data.length } : undefined;
  return { status, headers, body: data.subarray(start, start + length).toString('utf8'), used: start + length };
}

export function sendRaw(port: number, send: RawSend): Promise<Exchange> {
  const started = performance.now();
  const wanted = send.answers ?? 1;
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    const answers: Parsed[] = [];
    let done = false;
    const finish = (error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const [first, ...more] = answers;
      resolve({
        status: first?.status ?? 0,
        headers: first?.headers ?? {},
        body: first?.body ?? '',
        ms: performance.now() - started,
        ...(answers.length < wanted ? { error: error ?? 'closed' } : {}),
        ...(more.length ? { more: more.map(({ status, body, headers }) => ({ status, body, headers })) } : {}),
      });
    };
    const drain = (closed: boolean) => {
      for (;;) {
        const answer = parseAnswer(data, closed);
        if (!answer) return;
        data = data.subarray(answer.used);
        if (answer.status !== 100) answers.push(answer);
        if (answers.length >= wanted) return finish();
        if (!data.length) return;
      }
    };
    const timer = setTimeout(() => finish('timeout'), send.timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      drain(false);
    });
    socket.on('end', () => {
      drain(true);
      finish('closed');
    });
    socket.on('close', () => {
      drain(true);
      finish('closed');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
    let index = 0;
    const writeNext = () => {
      if (done || socket.destroyed) return;
      if (index >= send.pieces.length) {
        if (send.abandon) finish('abandoned');
        return;
      }
      socket.write(send.pieces[index++]);
      if (send.pauseMs) setTimeout(writeNext, send.pauseMs);
      else writeNext();
    };
    socket.once('connect', writeNext);
  });
}
