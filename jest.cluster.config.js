/**
 * `npm run test:cluster`: coexist's production shape on one machine (test/cluster): Temporal built
 * from source on PostgreSQL, two workers, two API processes behind haproxy, and failure drills.
 */
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/cluster/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/test/cluster/global-setup.ts',
  testTimeout: 900_000,
};
