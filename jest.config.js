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
};
