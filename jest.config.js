/** Tests are transpiled only (tsconfig's isolatedModules); `npm run typecheck` checks types. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', diagnostics: false }] },
  testTimeout: 60_000,
  globalSetup: '<rootDir>/test/global-setup.js',
  // Two cores: keep the heavy synth/mocks suites from starving the HTTP suites.
  maxWorkers: 2,
};
