/** Tests are transpiled only (tsconfig's isolatedModules); `npm run typecheck` checks types. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', diagnostics: false }] },
  // The bridge is its own package (bridge/package.json): tests reach its dependencies, the same module instances it uses.
  modulePaths: ['<rootDir>/bridge/node_modules'],
  testTimeout: 60_000,
  globalSetup: '<rootDir>/test/global-setup.js',
  // Two cores: keep the heavy synth/mocks suites from starving the HTTP suites.
  maxWorkers: 2,
  // A worker is replaced after a test file that left it above this: suites that seed 100,000 users or run SQLite reader
  // threads must not hand their memory to the next file (one CI run saw a worker reach 11.7 GB and the OOM killer).
  workerIdleMemoryLimit: '1536MB',
};
