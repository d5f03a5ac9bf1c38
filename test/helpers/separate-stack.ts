/**
 * The production shape on one machine, every part its own process so a test can kill it: the
 * Temporal dev server (its state in a SQLite file, on a fixed port so a restart finds it), the
 * worker (`worker.ts`) and the API (`api/server.ts`) as node processes sharing a real PostgreSQL
 * message store, and the Graph API simulator in the test's process sending signed webhooks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config';
import { startDevServer, type DevServer } from '../../scripts/dev-server';
import { ensureTemporalBinaries } from '../../scripts/temporal-binaries';
import { createSimulator } from '../../simulator/app';
import { devServerSearchAttributeArgs } from '../../contracts/search-attributes';
import { jsonClients } from './harness';
import { freePort } from './ports';
import { findPostgres, startPostgres } from './postgres';
import { spawnTs, type WatchedProcess } from './processes';
import { eventually } from './wait';

export const API_KEY = 'reliability-backend-api-key';
const APP_SECRET = 'reliability-meta-app-secret';

/** Why the separate stack cannot run here (no PostgreSQL for the shared store), or nothing. */
export function separateStackMissing(): string | undefined {
  const pg = findPostgres();
  return 'missing' in pg ? pg.missing : undefined;
}

export interface SeparateStackOptions {
  webhookRetryIntervalMs?: number;
  /**
   * `--sqlite-pragma` values for the dev server, e.g. `synchronous=off` where a test needs
   * throughput more than power-loss durability (a killed process loses nothing either way).
   */
  sqlitePragmas?: string[];
}

export async function startSeparateStack({ webhookRetryIntervalMs = 500, sqlitePragmas = [] }: SeparateStackOptions = {}) {
  const pg = findPostgres();
  if ('missing' in pg) throw new Error(pg.missing);
  const postgres = await startPostgres(pg.binDir);
  const dataDir = mkdtempSync(join(tmpdir(), 'coexist-reliability-'));
  const temporalConfig = loadConfig({
    TEMPORAL_DEV_SERVER_PORT: String(await freePort()),
    TEMPORAL_DEV_UI_PORT: String(await freePort()),
    TEMPORAL_DATA_DIR: dataDir,
  });
  const { cli } = ensureTemporalBinaries();
  const startTemporal = () =>
    startDevServer(temporalConfig, cli, [
      ...devServerSearchAttributeArgs(),
      ...sqlitePragmas.flatMap((p) => ['--sqlite-pragma', p]),
    ]);
  let temporal: DevServer | undefined = await startTemporal();

  const apiPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const simulator = createSimulator({
    appId: '1000000000000001',
    appSecret: APP_SECRET,
    webhookUrl: `${apiUrl}/webhooks/meta`,
    webhookRetryIntervalMs,
  });
  const sim = await simulator.listen(0);

  const env: Record<string, string> = {
    TEMPORAL_ADDRESS: temporal.address,
    DATABASE_URL: postgres.url,
    API_HOST: '127.0.0.1',
    API_PORT: String(apiPort),
    BACKEND_API_KEY: API_KEY,
    META_GRAPH_BASE_URL: sim.url,
    META_APP_ID: '1000000000000001',
    META_APP_SECRET: APP_SECRET,
    WORKER_METRICS_PORT: '0',
    LOG_LEVEL: 'info',
  };
  const processes = new Set<WatchedProcess>();
  const spawnPart = (name: string, script: string) => {
    const p = spawnTs(name, script, env);
    processes.add(p);
    void p.exited.then(() => processes.delete(p));
    return p;
  };

  const { api, sim: sim$ } = jsonClients(apiUrl, API_KEY, sim.url);

  return {
    env,
    apiUrl,
    simulator,
    simulatorUrl: sim.url,
    appSecret: APP_SECRET,
    api,
    sim: sim$,
    /** A worker process, once it polls (its workflow bundle built). */
    async startWorker(): Promise<WatchedProcess> {
      const worker = spawnPart('worker', 'worker.ts');
      await worker.waitForLine(/"msg":"worker polling"/, 180_000);
      return worker;
    },
    /** An API process, once it listens. */
    async startApi(): Promise<WatchedProcess> {
      const p = spawnPart('api', 'api/server.ts');
      await p.waitForLine(/"msg":"API listening"/);
      return p;
    },
    temporal: {
      address: temporal.address,
      /** SIGKILL: a crash. */
      kill: async () => {
        await temporal?.kill();
        temporal = undefined;
      },
      /** SIGTERM: an orderly stop. */
      stop: async () => {
        await temporal?.stop();
        temporal = undefined;
      },
      /** On the same port and SQLite file. */
      restart: async () => {
        temporal = await startTemporal();
      },
    },
    onboardingWhen(phoneNumber: string, accept: (o: any) => boolean, timeoutMs = 120_000) {
      return eventually(async () => (await api('GET', `/onboardings/${phoneNumber}`)).body, accept, {
        timeoutMs,
        intervalMs: 250,
      });
    },
    /** SIGKILL to every worker and API still running. */
    async killAll() {
      await Promise.all([...processes].map((p) => p.kill('SIGKILL')));
    },
    async stop() {
      await Promise.all([...processes].map((p) => p.kill('SIGKILL')));
      await sim.close();
      await temporal?.kill();
      await postgres.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type SeparateStack = Awaited<ReturnType<typeof startSeparateStack>>;
