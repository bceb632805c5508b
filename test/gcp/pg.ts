/**
 * A PostgreSQL of a GCP suite's own with TLS on, and certificates shaped like Cloud SQL's, made with openssl.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
export { freePort } from '../support/process';

export const INSTANCE_CN = 'acme-idp:scim-bridge-q7w2e9';

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** A CA (self-signed, or signed by `issuer`) and a server certificate, with openssl, in `dir`. */
export function makeCa(dir: string, name: string, issuer?: string): void {
  openssl(
    dir,
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-subj',
    `/CN=${name}`,
    '-out',
    `${name}.csr`,
  );
  writeFileSync(join(dir, `${name}.ext`), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  const sign = issuer ? ['-CA', `${issuer}.pem`, '-CAkey', `${issuer}.key`, '-CAcreateserial'] : ['-key', `${name}.key`];
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, ...sign, '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
}

export function makeServer(dir: string, name: string, issuer: string, cn: string, san?: string): void {
  openssl(
    dir,
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-subj',
    `/CN=${cn}`,
    '-out',
    `${name}.csr`,
  );
  writeFileSync(join(dir, `${name}.ext`), `basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n${san ? `subjectAltName=${san}\n` : ''}`);
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${issuer}.pem`,
    '-CAkey',
    `${issuer}.key`,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.pem`,
  );
}

export const pem = (dir: string, name: string) => readFileSync(join(dir, `${name}.pem`), 'utf8');

/** A PostgreSQL of this suite's own with TLS on, serving `chain` (the server certificate, then its issuers). */
export class TlsPostgres {
  private readonly data = mkdtempSync('/tmp/scim-bridge-gcp-tls-pg-');
  constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  private run(command: string, args: string[]): void {
    const bin = `${process.env.SCIM_TEST_PGBIN}/${command}`;
    if (process.getuid?.() === 0) execFileSync('runuser', ['-u', 'postgres', '--', bin, ...args], { stdio: 'ignore' });
    else execFileSync(bin, args, { stdio: 'ignore' });
  }

  start(chain: string, key: string): void {
    const certFile = join(this.data, 'server.crt');
    const keyFile = join(this.data, 'server.key');
    if (process.getuid?.() === 0) chownSync(this.data, Number(execFileSync('id', ['-u', 'postgres']).toString()), 0);
    this.run('initdb', ['-D', this.data, '-A', 'trust', '-U', 'postgres']);
    writeFileSync(certFile, chain);
    writeFileSync(keyFile, readFileSync(join(this.dir, `${key}.key`)));
    chmodSync(keyFile, 0o600);
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
      chownSync(certFile, uid, 0);
      chownSync(keyFile, uid, 0);
    }
    const options = `-p ${this.port} -k /tmp -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file=${certFile} -c ssl_key_file=${keyFile}`;
    this.run('pg_ctl', ['-D', this.data, '-w', '-l', join(this.data, 'server.log'), '-o', options, 'start']);
  }

  stop(): void {
    try {
      this.run('pg_ctl', ['-D', this.data, '-w', '-m', 'fast', 'stop']);
    } finally {
      rmSync(this.data, { recursive: true, force: true });
    }
  }
}
