/**
 * The README's table of environment variables is the one generated from config.ts: a variable
 * added, removed, redescribed or given another default there fails this test until
 * `npm run docs:env` is run.
 */
import { readFileSync } from 'node:fs';
import { configSchema } from '../../config';
import { envTable, README, withEnvTable } from '../../scripts/env-docs';

test('README.md holds the environment variable table generated from the zod config', () => {
  const readme = readFileSync(README, 'utf8');
  expect(withEnvTable(readme)).toBe(readme);
});

test('the table has every variable with its default, and descriptions for all', () => {
  const table = envTable();
  for (const [name, schema] of Object.entries(configSchema.shape)) {
    expect(schema.description).toMatch(/\w{3}/);
    expect(table).toContain(`| \`${name}\` |`);
  }
  expect(table).toContain('| `API_PORT` | `3000` |');
  expect(table).toContain('| `OPS_TOKENS` | `ops:local-ops-token-change-me` |');
  expect(table).toMatch(/\| `TEMPORAL_ADDRESS` \| unset \| .*\*\*Required when COEXIST_ENV=production\.\*\* \|/);
  expect(table).toMatch(/\| `META_APP_SECRET` \| .* Or read from the file named by `META_APP_SECRET_FILE`\. \|/);
});

test('a README whose table drifted is rewritten to the generated one', () => {
  const readme = readFileSync(README, 'utf8');
  const drifted = readme.replace('| `API_PORT` | `3000` |', '| `API_PORT` | `8080` |');
  expect(drifted).not.toBe(readme);
  expect(withEnvTable(drifted)).toBe(readme);
});
