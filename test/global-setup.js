// Builds the bundled bridge once before the suites that spawn it (CLI, multi-process, shutdown tests).
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = async () => {
  execFileSync(process.execPath, [path.join(__dirname, '..', 'bridge', 'build.mjs')], { stdio: 'inherit' });
};
