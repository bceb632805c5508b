/**
 * HTTPS served by the bridge itself, for a single VM with no load balancer in front: SCIM_TLS_CERT_FILE (the PEM
 * certificate chain) and SCIM_TLS_KEY_FILE (its PEM private key). The pair is checked before the bridge starts (a
 * bad pair is one configuration error), and re-read when either file changes (a watch on their folders, with a poll
 * as the fallback where the file system sends no events), so a renewal (certbot, a mounted secret) needs no restart.
 * A pair that fails to load on reload keeps the current one and logs a warning: a renewal tool that writes the
 * certificate before the key must not take the bridge down between the two writes.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import { type Server as HttpsServer, createServer } from 'node:https';
import { basename, dirname, resolve } from 'node:path';
import { type SecureContextOptions, createSecureContext } from 'node:tls';
import type { FastifyServerFactory } from 'fastify';
import { BRIDGE_ENV } from '../../../contract';
import { ConfigError } from '../config';

/** Identity providers require TLS 1.2 or later; nothing older is offered. */
export const TLS_MIN_VERSION = 'TLSv1.2' as const;
/**
 * Forward-secret AEAD suites only (Mozilla's "intermediate" profile without the finite-field DHE ones, which need
 * parameters of their own). TLS 1.3 suites are named too: a list without them would leave 1.3 with none.
 */
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');
/** A certificate this close to its end is logged as a warning at every load. */
export const TLS_EXPIRY_WARNING_DAYS = 21;
const DAY_MS = 86_400_000;

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** What is known of a loaded pair (for logs: never the key). */
export interface TlsPairInfo {
  readonly subject: string;
  readonly issuer: string;
  readonly subjectAltName: string;
  readonly validTo: string;
  readonly daysLeft: number;
  readonly fingerprint256: string;
}

interface LoadedPair {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly digest: string;
  readonly info: TlsPairInfo;
}

/** Both files, or neither: one alone is a configuration mistake. */
export function tlsFilesFromEnv(env: NodeJS.ProcessEnv): TlsFiles | undefined {
  const certFile = env[BRIDGE_ENV.tlsCertFile]?.trim();
  const keyFile = env[BRIDGE_ENV.tlsKeyFile]?.trim();
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) {
    const missing = certFile ? BRIDGE_ENV.tlsKeyFile : BRIDGE_ENV.tlsCertFile;
    throw new ConfigError(
      `${missing} is needed too: set both ${BRIDGE_ENV.tlsCertFile} (PEM certificate chain) and ${BRIDGE_ENV.tlsKeyFile} (its PEM key) to serve HTTPS, or neither`,
    );
  }
  return { certFile: resolve(certFile), keyFile: resolve(keyFile) };
}

function secureOptions(pair: { cert: Buffer; key: Buffer }): SecureContextOptions {
  return { cert: pair.cert, key: pair.key, minVersion: TLS_MIN_VERSION, ciphers: TLS_CIPHERS, honorCipherOrder: true };
}

function readPem(path: string, what: string, variable: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`cannot read the ${what} ${path} (${variable}): ${code === 'ENOENT' ? 'no such file' : code}`);
  }
}

/** Reads and checks a pair; the message (safe to log: no key material) says what is wrong. */
export function loadTlsPair(files: TlsFiles, now = Date.now()): LoadedPair {
  const cert = readPem(files.certFile, 'certificate', BRIDGE_ENV.tlsCertFile);
  const key = readPem(files.keyFile, 'private key', BRIDGE_ENV.tlsKeyFile);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new Error(`${files.certFile} (${BRIDGE_ENV.tlsCertFile}) is not a PEM certificate`);
  }
  try {
    // Builds the context a handshake would use: a key that is not PEM, or not the certificate's, fails here.
    createSecureContext(secureOptions({ cert, key }));
  } catch (error) {
    const reason = (error as Error).message;
    if (/key values mismatch/i.test(reason)) {
      throw new Error(`${files.keyFile} (${BRIDGE_ENV.tlsKeyFile}) is not the private key of the certificate in ${files.certFile}`);
    }
    throw new Error(`the certificate and key do not make a TLS pair (${reason}): ${files.certFile}, ${files.keyFile}`);
  }
  const info: TlsPairInfo = {
    subject: x509.subject.replace(/\n/g, ', '),
    issuer: x509.issuer.replace(/\n/g, ', '),
    subjectAltName: x509.subjectAltName ?? '',
    validTo: new Date(x509.validTo).toISOString(),
    daysLeft: Math.floor((new Date(x509.validTo).getTime() - now) / DAY_MS),
    fingerprint256: x509.fingerprint256,
  };
  return { cert, key, digest: createHash('sha256').update(cert).update('\0').update(key).digest('hex'), info };
}

/** The logger the watcher reports to (fastify's, or anything with the same two methods). */
export interface TlsLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface TlsTerminatorOptions {
  /** How often to re-read the files when no change event arrives, in ms. @default 30 000 */
  readonly pollMs?: number;
  /** Quiet time after a change event before reading, so a writer's several writes become one reload. @default 250 */
  readonly settleMs?: number;
}

/**
 * Owns the HTTPS servers fastify listens with (`serverFactory`), and swaps their certificate when the files change.
 */
export class TlsTerminator {
  private pair: LoadedPair;
  private readonly servers = new Set<HttpsServer>();
  private readonly watchers: FSWatcher[] = [];
  private poller?: NodeJS.Timeout;
  private settle?: NodeJS.Timeout;
  private log?: TlsLog;
  private reloading = Promise.resolve();
  private readonly pollMs: number;
  private readonly settleMs: number;

  /** Loads the pair now; a bad pair is a ConfigError (one line, exit 1). */
  constructor(
    readonly files: TlsFiles,
    options: TlsTerminatorOptions = {},
  ) {
    try {
      this.pair = loadTlsPair(files);
    } catch (error) {
      throw new ConfigError(`HTTPS: ${(error as Error).message}`);
    }
    this.pollMs = options.pollMs ?? 30_000;
    this.settleMs = options.settleMs ?? 250;
  }

  get info(): TlsPairInfo {
    return this.pair.info;
  }

  /** For fastify's `serverFactory`: an HTTPS server with the current pair, kept so a reload reaches it. */
  readonly serverFactory: FastifyServerFactory = (handler, opts) => {
    const server = createServer({ ...secureOptions(this.pair), handshakeTimeout: 10_000 }, handler);
    // What fastify sets on the servers it makes itself (it does not for a factory's).
    if (typeof opts.keepAliveTimeout === 'number') server.keepAliveTimeout = opts.keepAliveTimeout;
    if (typeof opts.requestTimeout === 'number') server.requestTimeout = opts.requestTimeout;
    if (typeof opts.connectionTimeout === 'number') server.setTimeout(opts.connectionTimeout);
    this.servers.add(server);
    server.once('close', () => this.servers.delete(server));
    return server as unknown as HttpServer;
  };

  /** Starts following the files; reports reloads and failed reloads to `log`. */
  watch(log: TlsLog): void {
    this.log = log;
    this.warnIfExpiring(this.pair.info);
    const folders = new Map<string, Set<string>>();
    for (const file of [this.files.certFile, this.files.keyFile]) {
      const names = folders.get(dirname(file)) ?? new Set<string>();
      names.add(basename(file));
      folders.set(dirname(file), names);
    }
    for (const [folder, names] of folders) {
      try {
        // The folder, not the file: renewals replace files by rename, and a mounted secret swaps a `..data` link.
        const watcher = watch(folder, { persistent: false }, (_event, name) => {
          if (name === null || names.has(String(name)) || String(name).startsWith('..')) this.scheduleReload();
        });
        watcher.on('error', () => undefined); // the poll still runs
        this.watchers.push(watcher);
      } catch {
        /* no watch here (some network and overlay file systems): the poll covers it */
      }
    }
    this.poller = setInterval(() => void this.reload(), this.pollMs);
    this.poller.unref();
  }

  private scheduleReload(): void {
    if (this.settle) clearTimeout(this.settle);
    this.settle = setTimeout(() => void this.reload(), this.settleMs);
    this.settle.unref();
  }

  /** Re-reads the files; swaps the certificate when they changed and load. Resolves true when it swapped. */
  reload(): Promise<boolean> {
    const next = this.reloading.then(() => this.reloadNow());
    this.reloading = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  private reloadNow(): boolean {
    let pair: LoadedPair;
    try {
      pair = loadTlsPair(this.files);
    } catch (error) {
      // Often a renewal half-way through (new certificate, old key): the next change event or poll retries.
      this.log?.warn(
        { certFile: this.files.certFile, keyFile: this.files.keyFile, reason: (error as Error).message },
        'tls certificate reload failed; keeping the current one',
      );
      return false;
    }
    if (pair.digest === this.pair.digest) return false;
    for (const server of this.servers) server.setSecureContext(secureOptions(pair));
    this.pair = pair;
    this.log?.info(
      { certFile: this.files.certFile, subject: pair.info.subject, validTo: pair.info.validTo, fingerprint256: pair.info.fingerprint256 },
      'tls certificate reloaded',
    );
    this.warnIfExpiring(pair.info);
    return true;
  }

  private warnIfExpiring(info: TlsPairInfo): void {
    if (info.daysLeft >= TLS_EXPIRY_WARNING_DAYS) return;
    const message = info.daysLeft < 0 ? 'tls certificate has expired; clients refuse it until it is renewed' : 'tls certificate expires soon; renew it';
    this.log?.warn({ certFile: this.files.certFile, validTo: info.validTo, daysLeft: info.daysLeft }, message);
  }

  stop(): void {
    if (this.poller) clearInterval(this.poller);
    if (this.settle) clearTimeout(this.settle);
    for (const watcher of this.watchers) watcher.close();
    this.watchers.length = 0;
  }
}

/** The terminator for `serve`, or undefined when the bridge serves plain HTTP (a platform terminates TLS). */
export function tlsFromEnv(env: NodeJS.ProcessEnv, options?: TlsTerminatorOptions): TlsTerminator | undefined {
  const files = tlsFilesFromEnv(env);
  return files ? new TlsTerminator(files, options) : undefined;
}
