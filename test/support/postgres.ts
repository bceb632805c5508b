/**
 * A fresh PostgreSQL database per suite on the server .ci/run starts (SCIM_TEST_POSTGRES_URL).
 * In CI the PostgreSQL suites must run: a missing server fails them instead of skipping.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Client } from 'pg';

export const POSTGRES_URL = process.env.SCIM_TEST_POSTGRES_URL;

export function describePostgres(name: string, body: () => void): void {
  if (POSTGRES_URL) {
    describe(name, body);
  } else if (process.env.CI) {
    describe(name, () => {
      it('needs PostgreSQL (SCIM_TEST_POSTGRES_URL); .ci/run starts one', () => {
        throw new Error('SCIM_TEST_POSTGRES_URL is not set in CI: the PostgreSQL suites cannot be skipped');
      });
    });
  } else {
    describe.skip(`${name} (set SCIM_TEST_POSTGRES_URL, e.g. source .ci/postgres.sh)`, body);
  }
}

/** Creates an empty database and returns its URL. */
export async function freshDatabase(): Promise<string> {
  const name = `scim_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_URL!);
  url.pathname = `/${name}`;
  return url.toString();
}

function pgCtl(...args: string[]): void {
  const bin = process.env.SCIM_TEST_PGBIN;
  const data = process.env.SCIM_TEST_PGDATA;
  if (!bin || !data) throw new Error('SCIM_TEST_PGBIN and SCIM_TEST_PGDATA are needed to stop and start PostgreSQL');
  const command = [`${bin}/pg_ctl`, '-D', data, '-w', ...args];
  if (process.getuid?.() === 0) execFileSync('runuser', ['-u', 'postgres', '--', ...command], { stdio: 'ignore' });
  else execFileSync(command[0], command.slice(1), { stdio: 'ignore' });
}

export const canRestartPostgres = () => Boolean(process.env.SCIM_TEST_PGBIN && process.env.SCIM_TEST_PGDATA);

export function stopPostgres(): void {
  pgCtl('-m', 'fast', 'stop');
}

export function startPostgres(): void {
  const port = new URL(POSTGRES_URL!).port;
  pgCtl('-l', `${process.env.SCIM_TEST_PGDATA}/server.log`, '-o', `-p ${port} -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200`, 'start');
}

export interface PrivateCluster {
  readonly url: string;
  readonly port: number;
  /** The cluster's data directory (owned by the postgres user when the tests run as root). */
  readonly dataDir: string;
  /** `fast` rolls back open transactions and closes connections; `immediate` is a crash (no shutdown checkpoint). */
  stop(mode?: 'fast' | 'immediate'): void;
  start(): void;
  destroy(): void;
  /** Runs a command as the cluster's owner (e.g. to place files it must read). */
  asOwner(command: string, args: string[]): void;
}

export interface PrivateClusterOptions {
  /** Server settings as `-c name=value` (e.g. ssl=on with its files). */
  readonly settings?: Record<string, string>;
  /** The whole pg_hba.conf, replacing initdb's trust-everything default (e.g. to make passwords count). */
  readonly hba?: string;
  /** Runs after initdb, before the first start (e.g. to place a server certificate in the data directory). */
  readonly beforeStart?: (dataDir: string) => void;
}

/**
 * A PostgreSQL server of the test's own (initdb in a temp dir, its own port: take one from `freePort()` in
 * support/process.ts; fixed ports collided with other processes' ephemeral ports), for tests that stop and
 * start the server, or set it up as a managed service sets its up, without disturbing the suites sharing
 * SCIM_TEST_POSTGRES_URL.
 */
export function privateCluster(port: number, options: PrivateClusterOptions = {}): PrivateCluster {
  const bin = process.env.SCIM_TEST_PGBIN;
  if (!bin) throw new Error('SCIM_TEST_PGBIN is needed (source .ci/postgres.sh)');
  const data = mkdtempSync('/tmp/scim-bridge-private-pg-');
  const root = process.getuid?.() === 0;
  const asPg = (command: string, args: string[]) =>
    root ? execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], { stdio: 'ignore' }) : execFileSync(command, args, { stdio: 'ignore' });
  if (root) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    chownSync(data, uid, uid);
  }
  asPg(`${bin}/initdb`, ['-D', data, '-A', 'trust', '-U', 'postgres']);
  if (options.hba !== undefined) writeFileSync(`${data}/pg_hba.conf`, options.hba);
  options.beforeStart?.(data);
  const settings = Object.entries(options.settings ?? {})
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(' ');
  const start = () =>
    asPg(`${bin}/pg_ctl`, ['-D', data, '-w', '-l', `${data}/server.log`, '-o', `-p ${port} -k /tmp -c listen_addresses=127.0.0.1 ${settings}`, 'start']);
  const stop = (mode: 'fast' | 'immediate' = 'fast') => asPg(`${bin}/pg_ctl`, ['-D', data, '-w', '-m', mode, 'stop']);
  start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir: data,
    start,
    stop,
    asOwner: asPg,
    destroy: () => {
      try {
        stop();
      } catch {
        /* already stopped */
      }
      rmSync(data, { recursive: true, force: true });
    },
  };
}
