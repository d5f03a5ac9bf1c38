/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  // Integration tests start Temporal servers and bundle workflows; a loaded 2-core machine is slow.
  testTimeout: 120_000,
  // Each integration file starts its own server; two at a time is what 2 cores carry.
  maxWorkers: 2,
};
