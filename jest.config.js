/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['@swc/jest'],
    '/node_modules/@electric-sql/pglite/.+\\.cjs$': '<rootDir>/test/jest-pglite-transform.js',
  },
  transformIgnorePatterns: ['/node_modules/(?!@electric-sql/pglite/)'],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // The reliability suite kills processes for minutes: `npm run test:reliability`; the cluster
  // suite builds and runs a Temporal cluster: `npm run test:cluster`.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/reliability/', '<rootDir>/test/cluster/'],
  // Skipped tests are named at the end and fail the run unless COEXIST_ALLOW_SKIPS=1.
  reporters: ['default', '<rootDir>/test/skip-reporter.js'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  // Integration tests start Temporal servers and bundle workflows; a loaded 2-core machine is slow.
  testTimeout: 120_000,
  // One test file at a time: each integration file starts its own Temporal server and worker, and
  // two at once on 2 cores starve each other (the time-skipping server then drops the client
  // connection for "excess pings" once a file runs past a minute).
  maxWorkers: 1,
};
