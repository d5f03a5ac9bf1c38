import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, configSchema, loadConfig, requiredInProduction, SECRET_VARIABLES, temporalAddress } from '../../config';

test('local defaults make a fresh clone start without any variable', () => {
  const config = loadConfig({});
  expect(config.COEXIST_ENV).toBe('local');
  expect(temporalAddress(config)).toBe('127.0.0.1:7233');
  expect(config.META_GRAPH_BASE_URL).toBe('http://127.0.0.1:4010');
});

test('TEMPORAL_ADDRESS names the server to use instead of the dev server', () => {
  expect(temporalAddress(loadConfig({ TEMPORAL_ADDRESS: 'temporal:7233' }))).toBe('temporal:7233');
});

test('a bad value stops start-up naming the variable and the reason', () => {
  expect(() => loadConfig({ API_PORT: '70000', TEMPORAL_ADDRESS: 'no-port' })).toThrow(ConfigError);
  try {
    loadConfig({ API_PORT: '70000', TEMPORAL_ADDRESS: 'no-port' });
  } catch (err) {
    const issues = (err as ConfigError).issues.map((i) => i.variable).sort();
    expect(issues).toEqual(['API_PORT', 'TEMPORAL_ADDRESS']);
    expect((err as Error).message).toMatch(/TEMPORAL_ADDRESS: must be host:port/);
  }
});

test('production refuses development defaults for secrets and addresses', () => {
  try {
    loadConfig({ COEXIST_ENV: 'production' });
    throw new Error('expected a ConfigError');
  } catch (err) {
    expect((err as ConfigError).issues.map((i) => i.variable)).toEqual([...requiredInProduction]);
  }
  const values: Partial<Record<(typeof requiredInProduction)[number], string>> = {
    TEMPORAL_ADDRESS: 'temporal:7233',
    DATABASE_URL: 'postgres://coexist:secret@db:5432/coexist',
    META_GRAPH_BASE_URL: 'https://graph.facebook.com',
    BACKEND_CALLBACK_URL: 'https://backend.example/callbacks',
    TOKEN_SEALING_KEY: Buffer.alloc(32, 1).toString('base64'),
    PAYLOAD_CODEC_KEYS: `2026-12:${Buffer.alloc(32, 2).toString('base64')}`,
    OPS_TOKENS: 'alice:alice-ops-token-0001,bob:bob-ops-token-00002',
  };
  const full = Object.fromEntries(requiredInProduction.map((k) => [k, values[k] ?? 'x'.repeat(20)]));
  expect(loadConfig({ COEXIST_ENV: 'production', ...full }).META_APP_SECRET).toBe('x'.repeat(20));
  // The development secrets are published in this repository: production refuses them.
  const local = loadConfig({});
  expect(() => loadConfig({ COEXIST_ENV: 'production', ...full, BACKEND_API_KEY: local.BACKEND_API_KEY })).toThrow(
    /BACKEND_API_KEY: is the local development value/,
  );
  const localCodecKeys = local.PAYLOAD_CODEC_KEYS.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',');
  expect(() => loadConfig({ COEXIST_ENV: 'production', ...full, PAYLOAD_CODEC_KEYS: localCodecKeys })).toThrow(
    /PAYLOAD_CODEC_KEYS: is the local development value/,
  );
});

test('DATABASE_URL: a PostgreSQL URL or memory://; unset locally (embedded store), required in production', () => {
  expect(loadConfig({}).DATABASE_URL).toBeUndefined();
  for (const url of ['postgres://u:p@db:5432/coexist', 'postgresql://db/coexist?sslmode=require', 'memory://']) {
    expect(loadConfig({ DATABASE_URL: url }).DATABASE_URL).toBe(url);
  }
  for (const url of ['mysql://db/coexist', 'db:5432', 'postgres://', 'memory']) {
    expect(() => loadConfig({ DATABASE_URL: url })).toThrow(
      /DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL, or memory:\/\//,
    );
  }
  expect(requiredInProduction).toContain('DATABASE_URL');
});

test('every variable is documented by the schema it is read through', () => {
  expect(Object.keys(configSchema.shape)).toEqual(expect.arrayContaining([...requiredInProduction]));
});

test('OPS_TOKENS are named operator tokens; OPS_STAGE_BUDGETS are per-stage milliseconds', () => {
  const config = loadConfig({
    OPS_TOKENS: 'alice:alice-ops-token-0001, bob:bob-ops-token-00002',
    OPS_STAGE_BUDGETS: '{"linking":60000}',
  });
  expect(config.OPS_TOKENS).toEqual([
    { name: 'alice', token: 'alice-ops-token-0001' },
    { name: 'bob', token: 'bob-ops-token-00002' },
  ]);
  expect(config.OPS_STAGE_BUDGETS).toEqual({ linking: 60000 });
  for (const [variable, value] of [
    ['OPS_TOKENS', 'alice-without-a-name'],
    ['OPS_TOKENS', 'alice:short'],
    ['OPS_STAGE_BUDGETS', '{"linking":-1}'],
    ['OPS_STAGE_BUDGETS', '{"nope":1}'],
    ['OPS_STAGE_BUDGETS', 'not json'],
  ]) {
    expect(() => loadConfig({ [variable!]: value })).toThrow(new RegExp(`${variable}: must`));
  }
});

test('without META_GRAPH_BASE_URL the Graph API is the simulator on SIMULATOR_PORT', () => {
  expect(loadConfig({}).META_GRAPH_BASE_URL).toBe('http://127.0.0.1:4010');
  expect(loadConfig({ SIMULATOR_PORT: '5010' }).META_GRAPH_BASE_URL).toBe('http://127.0.0.1:5010');
  expect(loadConfig({ SIMULATOR_PORT: '5010', META_GRAPH_BASE_URL: 'https://graph.facebook.com' }).META_GRAPH_BASE_URL).toBe(
    'https://graph.facebook.com',
  );
});

test('PAYLOAD_CODEC_KEYS: id:key pairs of 32-byte keys, the first encrypts; CODEC_CORS_ORIGINS are origins', () => {
  const [k1, k2] = [Buffer.alloc(32, 1), Buffer.alloc(32, 2)];
  expect(
    loadConfig({ PAYLOAD_CODEC_KEYS: `new:${k2.toString('base64')}, old:${k1.toString('base64')}` }).PAYLOAD_CODEC_KEYS,
  ).toEqual([
    { id: 'new', key: k2 },
    { id: 'old', key: k1 },
  ]);
  expect(loadConfig({}).PAYLOAD_CODEC_KEYS).toHaveLength(1);
  for (const value of [
    'no-key',
    `a:${Buffer.alloc(16).toString('base64')}`,
    `a:${k1.toString('base64')},a:${k2.toString('base64')}`,
    `bad id:${k1.toString('base64')}`,
  ]) {
    expect(() => loadConfig({ PAYLOAD_CODEC_KEYS: value })).toThrow(/PAYLOAD_CODEC_KEYS: must be id:key pairs/);
  }
  expect(loadConfig({ CODEC_CORS_ORIGINS: 'https://temporal-ui.example, http://127.0.0.1:8233' }).CODEC_CORS_ORIGINS).toEqual([
    'https://temporal-ui.example',
    'http://127.0.0.1:8233',
  ]);
  expect(() => loadConfig({ CODEC_CORS_ORIGINS: 'https://ui.example/path' })).toThrow(/CODEC_CORS_ORIGINS/);
});

test('secrets may come from <NAME>_FILE instead of the environment, never from both', () => {
  const dir = mkdtempSync(join(tmpdir(), 'coexist-secrets-'));
  const file = join(dir, 'meta-app-secret');
  writeFileSync(file, 'meta-app-secret-from-a-file\n');
  expect(loadConfig({ META_APP_SECRET_FILE: file }).META_APP_SECRET).toBe('meta-app-secret-from-a-file');
  expect(() => loadConfig({ META_APP_SECRET_FILE: join(dir, 'missing') })).toThrow(/META_APP_SECRET_FILE: cannot read .*ENOENT/);
  expect(() => loadConfig({ META_APP_SECRET_FILE: file, META_APP_SECRET: 'y'.repeat(20) })).toThrow(
    /META_APP_SECRET_FILE: set together with META_APP_SECRET/,
  );
  for (const name of requiredInProduction.filter((n) => /KEY|SECRET|TOKEN/.test(n))) expect(SECRET_VARIABLES).toContain(name);
});

test('a secret set explicitly to nothing refuses to start, even locally; other empty variables count as unset', () => {
  for (const variable of ['META_APP_SECRET', 'META_WEBHOOK_VERIFY_TOKEN', 'BACKEND_CALLBACK_SECRET'] as const) {
    expect(() => loadConfig({ [variable]: '' })).toThrow(new RegExp(`${variable}: is set but empty`));
  }
  expect(() => loadConfig({ COEXIST_ENV: 'local', META_APP_SECRET: '' })).toThrow(ConfigError);
  expect(loadConfig({ LOG_LEVEL: '', API_PORT: '' })).toMatchObject({ LOG_LEVEL: 'info', API_PORT: 3000 });
});
