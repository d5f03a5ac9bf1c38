/**
 * coexist in its production shape on one machine, every part its own process: PostgreSQL (Debian's),
 * Temporal's databases created and migrated by its SQL tool (deploy/temporal/schema.sh), the
 * Temporal server built from source (scripts/cluster-binaries.ts) running deploy/temporal/config.yaml,
 * coexist's namespace and search attributes registered by `scripts/temporal-setup.ts`, two workers
 * and two API processes on a PostgreSQL message store with their secrets in files, and haproxy
 * (deploy/haproxy/haproxy.cfg) in front of the APIs. The Graph API simulator and the backend's
 * callback receiver run in the test's process; the simulator's webhooks go through the balancer.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as PgClient } from 'pg';
import { ensureTemporalBinaries } from '../../scripts/temporal-binaries';
import { createSimulator } from '../../simulator/app';
import { startCallbackReceiver } from '../helpers/callback-receiver';
import { jsonClients } from '../helpers/harness';
import { freePort } from '../helpers/ports';
import { findPostgres, startPostgres } from '../helpers/postgres';
import { ROOT, spawnTs, watchProcess, type WatchedProcess } from '../helpers/processes';
import { eventually } from '../helpers/wait';
import { run, startTemporalCluster } from './temporal-cluster';

export const HAPROXY_CONFIG = join(ROOT, 'deploy', 'haproxy', 'haproxy.cfg');

export const API_KEY = 'cluster-backend-api-key-0001';
export const OPS_TOKEN = 'cluster-ops-token-000000001';
const APP_ID = '1000000000000001';
const APP_SECRET = 'cluster-meta-app-secret-0001';
const CALLBACK_SECRET = 'cluster-backend-callback-secret';

/** Why the cluster cannot run here, or nothing. */
export function clusterMissing(): string | undefined {
  const pg = findPostgres();
  if ('missing' in pg) return pg.missing;
  try {
    execFileSync('haproxy', ['-v'], { stdio: 'ignore' });
  } catch {
    return 'haproxy not found (apt-get install -y haproxy)';
  }
  return undefined;
}

/** CPU seconds (user + system) a process has used, from /proc (Linux). */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

export async function startCluster({ stageBudgets = {} }: { stageBudgets?: Record<string, number> } = {}) {
  const { cli } = ensureTemporalBinaries();
  const pg = findPostgres();
  if ('missing' in pg) throw new Error(pg.missing);
  const postgres = await startPostgres(pg.binDir);
  const pgUrl = new URL(postgres.url);
  const dir = mkdtempSync(join(tmpdir(), 'coexist-cluster-'));
  const stops: (() => Promise<unknown>)[] = [
    async () => postgres.stop(),
    async () => rmSync(dir, { recursive: true, force: true }),
  ];

  // The message store's own database beside them.
  const admin = new PgClient({ connectionString: postgres.url });
  await admin.connect();
  await admin.query('CREATE DATABASE coexist');
  await admin.end();
  const databaseUrl = `postgres://${pgUrl.username}@${pgUrl.host}/coexist`;

  const temporal = await startTemporalCluster(postgres.url, dir);
  stops.unshift(() => temporal.stop());
  const temporalAddress = temporal.address;

  const callbacks = await startCallbackReceiver(CALLBACK_SECRET);
  const balancerPort = await freePort();
  const balancerUrl = `http://127.0.0.1:${balancerPort}`;
  const simulator = createSimulator({
    appId: APP_ID,
    appSecret: APP_SECRET,
    webhookUrl: `${balancerUrl}/webhooks/meta`,
    webhookRetryIntervalMs: 500,
  });
  const sim = await simulator.listen(0);
  stops.unshift(
    () => sim.close(),
    () => callbacks.close(),
  );

  // Secrets in files, as docker-compose.yml hands them over (`<NAME>_FILE`).
  const secrets: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    BACKEND_API_KEY: API_KEY,
    BACKEND_CALLBACK_SECRET: CALLBACK_SECRET,
    TOKEN_SEALING_KEY: Buffer.alloc(32, 11).toString('base64'),
    PAYLOAD_CODEC_KEYS: `cluster-1:${Buffer.alloc(32, 12).toString('base64')}`,
    META_APP_SECRET: APP_SECRET,
    META_WEBHOOK_VERIFY_TOKEN: 'cluster-verify-token',
    OPS_TOKENS: `oncall:${OPS_TOKEN}`,
  };
  const env: Record<string, string> = {
    COEXIST_ENV: 'production',
    LOG_LEVEL: 'info',
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: 'coexist',
    BACKEND_CALLBACK_URL: callbacks.url,
    META_GRAPH_BASE_URL: sim.url,
    META_APP_ID: APP_ID,
    // The simulator stands in for Meta, its hosted linking flow included (no simulator runs in these processes).
    SIMULATOR_ENABLED: 'true',
    WORKER_METRICS_PORT: '0',
    OPS_STAGE_BUDGETS: JSON.stringify(stageBudgets),
  };
  for (const [name, value] of Object.entries(secrets)) {
    const file = join(dir, name.toLowerCase());
    writeFileSync(file, value, { mode: 0o600 });
    env[`${name}_FILE`] = file;
  }

  const apiPorts = [await freePort(), await freePort()];
  const workers: (WatchedProcess | undefined)[] = [undefined, undefined];
  const apis: (WatchedProcess | undefined)[] = [undefined, undefined];
  const startWorker = async (i: number) => {
    const w = spawnTs(`worker-${i + 1}`, 'worker.ts', env);
    workers[i] = w;
    await w.waitForLine(/"msg":"worker polling"/, 240_000);
    return w;
  };
  const startApi = async (i: number) => {
    const a = spawnTs(`api-${i + 1}`, 'api/server.ts', { ...env, API_HOST: '127.0.0.1', API_PORT: String(apiPorts[i]) });
    apis[i] = a;
    await a.waitForLine(/"msg":"API listening"/);
    return a;
  };
  stops.unshift(async () => Promise.all([...workers, ...apis].map((p) => p?.kill('SIGKILL'))));
  await Promise.all([startWorker(0), startWorker(1), startApi(0), startApi(1)]);

  const balancer = watchProcess(
    spawn('haproxy', ['-db', '-f', HAPROXY_CONFIG], {
      env: {
        ...process.env,
        BALANCER_BIND: `127.0.0.1:${balancerPort}`,
        API_1: `127.0.0.1:${apiPorts[0]}`,
        API_2: `127.0.0.1:${apiPorts[1]}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
    'haproxy',
  );
  stops.unshift(async () => balancer.kill('SIGKILL'));
  const { api, sim: sim$ } = jsonClients(balancerUrl, API_KEY, sim.url);
  await eventually(
    () => api('GET', '/health').catch(() => ({ status: 0, body: undefined })),
    (r) => r.status === 200,
    { timeoutMs: 30_000, intervalMs: 200 },
  );

  /** `temporal` CLI against the cluster. */
  const temporalCli = (args: string[]) => run(cli, [...args, '--address', temporalAddress, '--namespace', 'default'], {});

  return {
    dir,
    binaries: temporal.binaries,
    schemaLog: temporal.schemaLog,
    setupResult: temporal.setupResult,
    temporalAddress,
    postgresUrl: postgres.url,
    balancerUrl,
    simulator,
    simulatorUrl: sim.url,
    callbacks,
    appSecret: APP_SECRET,
    api,
    sim: sim$,
    workers,
    apis,
    balancer,
    temporalCli,
    get server() {
      return temporal.server;
    },
    startWorker,
    startApi,
    async ops(path: string) {
      const response = await fetch(`${balancerUrl}${path}`, { headers: { authorization: `Bearer ${OPS_TOKEN}` } });
      return { status: response.status, body: (await response.json()) as any };
    },
    onboardingWhen(phoneNumber: string, accept: (o: any) => boolean, timeoutMs = 180_000) {
      return eventually(async () => (await api('GET', `/onboardings/${phoneNumber}`)).body, accept, {
        timeoutMs,
        intervalMs: 250,
      });
    },
    /** SIGKILL, then the same server on the same ports and databases. */
    restartServer: () => temporal.restart(),
    databaseCounters: () => temporal.databaseCounters(),
    serverMetrics: () => temporal.metrics(),
    async stop() {
      for (const stop of stops) await stop().catch(() => undefined);
    },
  };
}

export type Cluster = Awaited<ReturnType<typeof startCluster>>;
