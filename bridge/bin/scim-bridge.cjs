#!/usr/bin/env node
// `scim-bridge` command: runs the bundled bridge (built by `npm ci`/`npm run build` into dist/).
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const bundle = path.join(__dirname, '..', '..', 'dist', 'scim-bridge.cjs');
if (!fs.existsSync(bundle)) {
  process.stderr.write('scim-bridge: the bundle is missing; run `npm run build` first\n');
  process.exit(1);
}
require(bundle);
