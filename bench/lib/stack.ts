/**
 * What a benchmark starts: the Temporal dev server (scripts/dev-server.ts, its SQLite file in a
 * fresh folder so its size can be read), the Graph API simulator and the API in this process,
 * and the bench worker as a child process (./worker-process.ts) whose CPU time and RSS are its own.
 *
 * `BENCH_TEMPORAL=cluster`: the Temporal server of `npm run test:cluster` instead (built from
 * source, on PostgreSQL, deploy/temporal/config.yaml; test/cluster/temporal-cluster.ts), with
 * `BENCH_WORKERS` bench workers (default 2) sharing the task queue.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { openMessageStore } from '../../store';
import { startApi } from '../../api/server';
import { loadConfig, type Config } from '../../config';
import { startDevServer, type DevServer } from '../../scripts/dev-server';
import { dataConverter } from '../../security/payload-codec';
import { ensureTemporalBinaries } from '../../scripts/temporal-binaries';
import { createSimulator, type SimulatorOptions } from '../../simulator/app';
import { freePort } from '../../test/helpers/ports';
import { findPostgres, startPostgres, type TestPostgres } from '../../test/helpers/postgres';
import { startTemporalCluster, type TemporalCluster } from '../../test/cluster/temporal-cluster';
import { devServerSearchAttributeArgs } from '../../contracts/search-attributes';
import type { WorkerUsage } from './worker-process';

const APP_SECRET = 'bench-meta-app-secret';
const API_KEY = 'bench-backend-api-key';

export interface StackOptions {
  /** Start the API (webhooks, backend routes). */
  api?: boolean;
  simulator?: Partial<SimulatorOptions>;
  /** Extra configuration for the worker and API. */
  env?: Record<string, string>;
}

/** A child started with tsx, talking over IPC. */
export function forkTsx(script: string, env: Record<string, string> = {}, nodeArgs: string[] = []): ChildProcess {
  const prof = process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`] : [];
  return fork(script, [], {
    execArgv: ['--import', 'tsx', ...nodeArgs, ...prof],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** The first IPC message of `type` from a child, or its exit as an error. */
export function nextMessage<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { type: string }) => {
      if (m.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m as T);
    };
    const onExit = (code: number | null) => reject(new Error(`child process exited (${code}) before '${type}'`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/**
 * The dev server's SQLite file goes to tmpfs where there is one: on this kind of VM every commit's
 * fsync would otherwise be the bottleneck of every figure (production runs on PostgreSQL). Its
 * size is the disk the server would use.
 */
const DATA_ROOT = process.env.BENCH_DATA_DIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());

const CLUSTER = process.env.BENCH_TEMPORAL === 'cluster';
const WORKERS = Number(process.env.BENCH_WORKERS ?? (CLUSTER ? 2 : 1));

const running = new Set<() => Promise<void>>();

/**
 * A stack being stopped: the Temporal client may have scheduled a retry of a call the closing
 * connection cut, which then throws "Channel has been shut down" from its timer (the SDK's retry
 * interceptor does not check the channel). Harmless once the stack is stopping; anything else
 * still ends the benchmark.
 */
let stopping = 0;
process.on('uncaughtException', (err) => {
  if (stopping > 0 && err.message === 'Channel has been shut down') return;
  console.error(err);
  process.exit(1);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.allSettled([...running].map((stop) => stop())).then(() => process.exit(130));
  });
}

export async function startStack(options: StackOptions = {}) {
  const { databaseUrl, postgres } = await messageDatabase();
  try {
    return await startServices(options, databaseUrl, postgres);
  } catch (err) {
    await postgres?.stop();
    throw err;
  }
}

async function startServices(
  { api = false, simulator: simOptions = {}, env = {} }: StackOptions,
  databaseUrl: string,
  postgres?: TestPostgres,
) {
  const dataDir = mkdtempSync(join(DATA_ROOT, 'coexist-bench-'));
  const temporalPort = await freePort();
  const apiPort = await freePort();
  const sim = createSimulator({
    appId: '1000000000000001',
    appSecret: APP_SECRET,
    webhookUrl: `http://127.0.0.1:${apiPort}/webhooks/meta`,
    ...simOptions,
  });
  const simServer = await sim.listen(0);
  let variables: Record<string, string> = {
    TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    TEMPORAL_DEV_SERVER_PORT: String(temporalPort),
    TEMPORAL_DEV_UI_PORT: String(await freePort()),
    TEMPORAL_DATA_DIR: dataDir,
    TEMPORAL_TASK_QUEUE: 'bench',
    API_PORT: String(apiPort),
    BACKEND_API_KEY: API_KEY,
    META_GRAPH_BASE_URL: simServer.url,
    META_APP_SECRET: APP_SECRET,
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'error',
    WORKER_METRICS_PORT: '0',
    ...env,
  };
  let config: Config = loadConfig(variables);
  let server: DevServer | undefined;
  let cluster: TemporalCluster | undefined;
  if (CLUSTER) {
    if (!postgres) throw new Error("BENCH_TEMPORAL=cluster needs the machine's PostgreSQL (not BENCH_DATABASE_URL)");
    cluster = await startTemporalCluster(postgres.url, dataDir);
    reportUnexpectedExit(cluster);
    variables = { ...variables, TEMPORAL_ADDRESS: cluster.address };
    config = loadConfig(variables);
  }
  // Benchmarks started side by side (the smoke test) can race for a free port, which the dev
  // server's own internal ports may take first: it then fails to start, and new ports are tried.
  for (let attempt = 1; !server && !cluster; attempt++) {
    try {
      server = await startDevServer(config, ensureTemporalBinaries().cli, devServerSearchAttributeArgs());
    } catch (err) {
      if (attempt === 3) throw err;
      console.error(
        `the Temporal dev server did not start (attempt ${attempt}), trying new ports: ${(err as Error).message.slice(0, 500)}`,
      );
      const port = await freePort();
      variables = {
        ...variables,
        TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
        TEMPORAL_DEV_SERVER_PORT: String(port),
        TEMPORAL_DEV_UI_PORT: String(await freePort()),
      };
      rmSync(dataDir, { recursive: true, force: true });
      mkdirSync(dataDir);
      config = loadConfig(variables);
    }
  }
  const temporalAddress = cluster?.address ?? server!.address;
  const connection = await Connection.connect({ address: temporalAddress });
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: dataConverter(config) });

  const workers = Array.from({ length: WORKERS }, () =>
    forkTsx(join(__dirname, 'worker-process.ts'), variables, ['--expose-gc']),
  );
  await Promise.all(workers.map((w) => nextMessage(w, 'ready')));
  const workersExited = workers.map((w) => new Promise<number | null>((done) => w.once('exit', (code) => done(code))));

  const store = api ? await openMessageStore(config) : undefined;
  const runningApi = api ? await startApi(config, client, store!, pino({ level: 'silent' })) : undefined;

  const stop = async () => {
    running.delete(stop);
    stopping++;
    await runningApi?.close();
    await store?.close();
    for (const w of workers) w.kill('SIGTERM');
    const timer = setTimeout(() => workers.forEach((w) => w.kill('SIGKILL')), 15_000);
    await Promise.all(workersExited);
    clearTimeout(timer);
    await connection.close();
    await server?.stop();
    if (cluster) stoppedClusters.add(cluster);
    await cluster?.stop();
    await simServer.close();
    await postgres?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    // A retry scheduled before the close fires within its backoff (at most seconds).
    setTimeout(() => stopping--, 30_000).unref();
  };
  running.add(stop);

  return {
    config,
    client,
    sim,
    simulatorUrl: simServer.url,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    apiKey: API_KEY,
    appSecret: APP_SECRET,
    temporalAddress,
    workers: workers.length,
    /** The cluster's Temporal server RSS (bytes), or undefined on the dev server. */
    serverRssBytes: () => cluster?.server.rssBytes(),
    /**
     * A benchmark's business number in the number registry under its WABA, as its onboarding
     * writes it (webhooks for a number the registry does not hold are quarantined). Needs `api`.
     */
    async registerNumber(n: { phoneNumberId: string; wabaId: string; displayPhoneNumber: string }): Promise<void> {
      if (!store) throw new Error('registerNumber needs the stack started with { api: true }');
      await store.numbers.record({
        phoneNumberId: n.phoneNumberId,
        onboardingWorkflowId: `onboarding:+${n.displayPhoneNumber}`,
        wabaId: n.wabaId,
        displayPhoneNumber: `+${n.displayPhoneNumber}`,
        canSend: false,
        updatedAt: Date.now(),
      });
    },
    /** Until the webhook inbox holds no pending item (every message handed to its conversation). Needs `api`. */
    async inboxDrained(timeoutMs: number): Promise<void> {
      if (!store) throw new Error('inboxDrained needs the stack started with { api: true }');
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { pending } = await store.inboxDepth();
        if (pending === 0) return;
        if (Date.now() > deadline) throw new Error(`${pending} webhook items still pending after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 2_000));
      }
    },
    /**
     * The workers' CPU time (all of them), RSS and heap (the largest of them) now, and each
     * worker's own (`each`); with `gc`, after a full garbage collection.
     */
    async workerUsage({ gc = false } = {}): Promise<WorkerUsage & { each: WorkerUsage[] }> {
      const usages = await Promise.all(
        workers.map(async (worker) => {
          const answer = nextMessage<{ usage: WorkerUsage }>(worker, 'usage');
          worker.send({ type: 'usage', gc });
          return (await answer).usage;
        }),
      );
      return {
        cpuMicros: usages.reduce((sum, u) => sum + u.cpuMicros, 0),
        rssBytes: Math.max(...usages.map((u) => u.rssBytes)),
        heapUsedBytes: Math.max(...usages.map((u) => u.heapUsedBytes)),
        each: usages,
      };
    },
    /**
     * Bytes of the dev server's SQLite files (database, WAL; a journal may come and go meanwhile),
     * or of the cluster's Temporal databases.
     */
    async serverDiskBytes(): Promise<number> {
      if (cluster) {
        const db = await cluster.databaseCounters();
        return db.temporal!.bytes + db.temporal_visibility!.bytes;
      }
      return readdirSync(dataDir)
        .filter((f) => f.startsWith('temporal.sqlite'))
        .reduce((sum, f) => sum + (statSync(join(dataDir, f), { throwIfNoEntry: false })?.size ?? 0), 0);
    },
    stop,
  };
}

/**
 * The cluster's server ending on its own (not by `stop`) says why: its exit and last lines. The
 * workers would otherwise only log "connection refused".
 */
function reportUnexpectedExit(cluster: TemporalCluster): void {
  const server = cluster.server;
  void server.exited.then(({ code, signal }) => {
    if (stoppedClusters.has(cluster)) return;
    console.error(
      `[bench] the Temporal server exited (${code ?? signal}); its last lines:\n${server.lines.slice(-40).join('\n')}`,
    );
  });
}
const stoppedClusters = new WeakSet<TemporalCluster>();

export type Stack = Awaited<ReturnType<typeof startServices>>;

/**
 * The message store in PostgreSQL, as in production (worker and API share it), so that the
 * worker's CPU and RSS are the worker's own: `BENCH_DATABASE_URL`, else a throw-away server from
 * the machine's PostgreSQL binaries, else (none installed) the in-memory store inside the worker.
 */
async function messageDatabase(): Promise<{ databaseUrl: string; postgres?: TestPostgres }> {
  if (process.env.BENCH_DATABASE_URL) return { databaseUrl: process.env.BENCH_DATABASE_URL };
  const found = findPostgres();
  if ('missing' in found) {
    console.error(
      `[bench] no PostgreSQL (${found.missing}): the message store runs in memory inside the worker, and counts in its CPU and RSS`,
    );
    return { databaseUrl: 'memory://' };
  }
  const postgres = await startPostgres(found.binDir);
  return { databaseUrl: postgres.url, postgres };
}
