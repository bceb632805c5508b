/**
 * A throwaway certificate authority for the TLS tests, made with the machine's openssl: a CA, and leaf certificates
 * for localhost and 127.0.0.1 with any validity window (an expired one too, which `openssl x509 -days` cannot make).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Leaf {
  readonly cert: string;
  readonly key: string;
}

export interface Pki {
  readonly dir: string;
  /** PEM file of the CA certificate. */
  readonly caFile: string;
  /**
   * A certificate signed by the CA (or self-signed), valid from `fromDays` to `toDays` days from now, for the hosts
   * given (DNS names and IP addresses). Returns the PEM file paths.
   */
  issue(name: string, options?: { fromDays?: number; toDays?: number; hosts?: string[]; selfSigned?: boolean }): Leaf;
  cleanup(): void;
}

const openssl = (cwd: string, args: string[]) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

/** openssl ca's date form: YYYYMMDDHHMMSSZ. */
function asn1Date(daysFromNow: number): string {
  return `${new Date(Date.now() + daysFromNow * 86_400_000).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

export function createPki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'scim-pki-'));
  mkdirSync(join(dir, 'issued'));
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    [
      '[ca]',
      'default_ca = test_ca',
      '[test_ca]',
      `dir = ${dir}`,
      'database = $dir/index.txt',
      'new_certs_dir = $dir/issued',
      'serial = $dir/serial',
      'default_md = sha256',
      'policy = any',
      'unique_subject = no',
      'email_in_dn = no',
      '[any]',
      'commonName = supplied',
    ].join('\n'),
  );
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(dir, [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '30',
    '-subj',
    '/CN=scim-bridge test CA/O=scim-bridge tests',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);

  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    issue(name, options = {}) {
      const hosts = options.hosts ?? ['localhost', '127.0.0.1'];
      const san = hosts.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
      const key = join(dir, `${name}.key`);
      const cert = join(dir, `${name}.pem`);
      if (options.selfSigned) {
        openssl(dir, [
          'req',
          '-x509',
          ...ec,
          '-keyout',
          key,
          '-out',
          cert,
          '-days',
          String(options.toDays ?? 90),
          '-subj',
          `/CN=${hosts[0]}`,
          '-addext',
          `subjectAltName=${san}`,
        ]);
        return { cert, key };
      }
      writeFileSync(
        join(dir, `${name}.ext`),
        ['[leaf]', 'basicConstraints = CA:FALSE', 'keyUsage = critical,digitalSignature', 'extendedKeyUsage = serverAuth', `subjectAltName = ${san}`].join(
          '\n',
        ),
      );
      openssl(dir, ['req', '-new', ...ec, '-keyout', key, '-out', join(dir, `${name}.csr`), '-subj', `/CN=${hosts[0]}`]);
      openssl(dir, [
        'ca',
        '-batch',
        '-notext',
        '-config',
        'ca.cnf',
        '-cert',
        'ca.pem',
        '-keyfile',
        'ca.key',
        '-in',
        `${name}.csr`,
        '-out',
        cert,
        '-startdate',
        asn1Date(options.fromDays ?? -1),
        '-enddate',
        asn1Date(options.toDays ?? 90),
        '-extfile',
        `${name}.ext`,
        '-extensions',
        'leaf',
      ]);
      return { cert, key };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export const pem = (path: string) => readFileSync(path);
