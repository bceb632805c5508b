// Bundles the bridge into one CommonJS file that runs with no node_modules beside it (the "bundled bridge").
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: [new URL('./src/main.ts', import.meta.url).pathname],
  outfile: new URL('../dist/scim-bridge.cjs', import.meta.url).pathname,
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
