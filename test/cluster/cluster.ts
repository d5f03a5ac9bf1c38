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
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { ensureClusterBinaries } from '../../scripts/cluster-binaries';
import { ensureTemporalBinaries } from '../../scripts/temporal-binaries';
import { createSimulator } from '../../simulator/app';
import { startCallbackReceiver } from '../helpers/callback-receiver';
import { jsonClients } from '../helpers/harness';
import { freePort } from '../helpers/ports';
import { findPostgres, startPostgres } from '../helpers/postgres';
import { ROOT, spawnTs, watchProcess, type WatchedProcess } from '../helpers/processes';
import { eventually } from '../helpers/wait';

export const TEMPORAL_CONFIG = join(ROOT, 'deploy', 'temporal', 'config.yaml');
export const TEMPORAL_DYNAMIC_CONFIG = join(ROOT, 'deploy', 'temporal', 'dynamicconfig.yaml');
export const SCHEMA_SCRIPT = join(ROOT, 'deploy', 'temporal', 'schema.sh');
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

/** Runs a command to its end; fails with its output. */
function run(file: string, args: string[], env: Record<string, string>): string {
  try {
    return execFileSync(file, args, { env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${file} ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`, { cause: err });
  }
}

/**
 * A free port Temporal's membership can store: its cluster_membership table keeps ports as
 * SMALLINT, below the ephemeral range a port-0 bind hands out.
 */
async function membershipPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
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
  const binaries = ensureClusterBinaries();
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

  // Temporal's databases, as an operator creates and migrates them.
  const schemaLog = run('sh', [SCHEMA_SCRIPT], {
    SQL_TOOL: binaries.sqlTool,
    SCHEMA_DIR: binaries.schemaDir,
    SQL_HOST: pgUrl.hostname,
    SQL_PORT: pgUrl.port,
    SQL_USER: pgUrl.username,
    SQL_PASSWORD: '',
  });
  // The message store's own database beside them.
  const admin = new PgClient({ connectionString: postgres.url });
  await admin.connect();
  await admin.query('CREATE DATABASE coexist');
  await admin.end();
  const databaseUrl = `postgres://${pgUrl.username}@${pgUrl.host}/coexist`;

  // The Temporal server: only where things are comes from the environment (deploy/temporal/config.yaml).
  const portNames = [
    'FRONTEND_GRPC_PORT',
    'FRONTEND_HTTP_PORT',
    'FRONTEND_MEMBERSHIP_PORT',
    'HISTORY_GRPC_PORT',
    'HISTORY_MEMBERSHIP_PORT',
    'MATCHING_GRPC_PORT',
    'MATCHING_MEMBERSHIP_PORT',
    'WORKER_GRPC_PORT',
    'WORKER_MEMBERSHIP_PORT',
  ];
  const serverEnv: Record<string, string> = {
    POSTGRES_SEEDS: pgUrl.hostname,
    DB_PORT: pgUrl.port,
    POSTGRES_USER: pgUrl.username,
    POSTGRES_PWD: '',
    BIND_ON_IP: '127.0.0.1',
    DYNAMIC_CONFIG_FILE_PATH: TEMPORAL_DYNAMIC_CONFIG,
    LOG_LEVEL: 'warn',
  };
  for (const name of portNames) serverEnv[name] = String(await membershipPort());
  const serverMetricsPort = await freePort();
  serverEnv.PROMETHEUS_ENDPOINT = `127.0.0.1:${serverMetricsPort}`;
  const temporalAddress = `127.0.0.1:${serverEnv.FRONTEND_GRPC_PORT}`;

  let server: WatchedProcess | undefined;
  const startServer = async () => {
    const child = spawn(binaries.server, ['--config-file', TEMPORAL_CONFIG, 'start'], {
      cwd: dir,
      env: { ...process.env, ...serverEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server = watchProcess(child, 'temporal-server');
    const s = server;
    await eventually(
      async () => {
        if (s.child.exitCode !== null) throw new Error(`temporal-server exited:\n${s.lines.slice(-30).join('\n')}`);
        try {
          const connection = await Connection.connect({ address: temporalAddress, connectTimeout: '2s' });
          try {
            await connection.workflowService.getSystemInfo({});
            return true;
          } finally {
            await connection.close();
          }
        } catch {
          return false;
        }
      },
      (ok) => ok,
      { timeoutMs: 180_000, intervalMs: 500 },
    );
    return s;
  };
  await startServer();
  stops.unshift(async () => server?.kill('SIGKILL'));

  // coexist's namespace and search attributes: the project's own setup step.
  const setup = spawnTs('temporal-setup', 'scripts/temporal-setup.ts', { TEMPORAL_ADDRESS: temporalAddress });
  const setupExit = await setup.exited;
  if (setupExit.code !== 0) throw new Error(`temporal-setup failed:\n${setup.lines.join('\n')}`);
  const setupResult = JSON.parse(setup.lines.find((l) => l.includes('"temporal setup done"'))!);

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
    binaries,
    schemaLog,
    setupResult,
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
      return server!;
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
    async restartServer() {
      await server?.kill('SIGKILL');
      return startServer();
    },
    /** Counters of Temporal's databases (pg_stat_database), for the capacity model. */
    async databaseCounters() {
      const c = new PgClient({ connectionString: postgres.url });
      await c.connect();
      try {
        const { rows } = await c.query(
          `SELECT datname, xact_commit::bigint AS commits, (tup_inserted + tup_updated + tup_deleted)::bigint AS writes,
                  pg_database_size(datname)::bigint AS bytes
             FROM pg_stat_database WHERE datname IN ('temporal', 'temporal_visibility', 'coexist')`,
        );
        return Object.fromEntries(
          rows.map((r) => [r.datname, { commits: Number(r.commits), writes: Number(r.writes), bytes: Number(r.bytes) }]),
        ) as Record<string, { commits: number; writes: number; bytes: number }>;
      } finally {
        await c.end();
      }
    },
    /** Temporal server's Prometheus metrics (text). */
    async serverMetrics() {
      return (await fetch(`http://127.0.0.1:${serverMetricsPort}/metrics`)).text();
    },
    async stop() {
      for (const stop of stops) await stop().catch(() => undefined);
    },
  };
}

export type Cluster = Awaited<ReturnType<typeof startCluster>>;
