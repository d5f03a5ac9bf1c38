/**
 * `npm start`: the embedded stack in one command. Starts the Temporal dev server (unless
 * TEMPORAL_ADDRESS names a server), the Meta Graph simulator (unless SIMULATOR_ENABLED=false),
 * the worker and the API; logs where each listens; stops them all, in reverse order, on Ctrl-C.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { openMessageStore } from '../store';
import { startApi } from '../api/server';
import { createTemporalClient } from '../client';
import { ConfigError, loadConfig, temporalAddress, type Config } from '../config';
import { createLogger } from '../logger';
import { temporalPrometheus, workerMetricsAddress } from '../observability/worker-metrics';
import { createWorker } from '../worker';
import { startDevServer } from './dev-server';
import { startSimulatorServer } from '../simulator/server';
import { devServerSearchAttributeArgs } from '../contracts/search-attributes';
import { ensureTemporalBinaries } from './temporal-binaries';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
  const log = createLogger(config, 'start');
  // This process handles SIGINT / SIGTERM itself, to stop the parts in order. Temporal's worker
  // metrics go straight to WORKER_METRICS_PORT; coexist's, of this one process, are on the API's /metrics.
  const workerMetrics = workerMetricsAddress(config);
  Runtime.install({
    shutdownSignals: [],
    logger: new DefaultLogger('WARN'),
    ...(workerMetrics ? { telemetryOptions: temporalPrometheus(workerMetrics) } : {}),
  });

  const stops: { name: string; stop: () => Promise<void> }[] = [];
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    for (const { name, stop } of stops.reverse()) {
      try {
        await stop();
        log.info(`${name} stopped`);
      } catch (err) {
        log.error({ err }, `${name} did not stop cleanly`);
      }
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  if (!config.TEMPORAL_ADDRESS) {
    const { cli } = ensureTemporalBinaries();
    // The Web UI decrypts payloads through the API's codec endpoint (ops sign-in: README, Security).
    const apiHost = config.API_HOST === '0.0.0.0' ? '127.0.0.1' : config.API_HOST;
    const codecEndpoint = `http://${apiHost}:${config.API_PORT}/codec`;
    const server = await startDevServer(config, cli, [...devServerSearchAttributeArgs(), '--ui-codec-endpoint', codecEndpoint]);
    stops.push({ name: 'Temporal dev server', stop: server.stop });
    log.info({ address: server.address, webUi: server.uiUrl, db: server.dbFile }, 'Temporal dev server ready');
  } else {
    log.info({ address: temporalAddress(config) }, 'using the Temporal server at TEMPORAL_ADDRESS');
  }

  if (config.SIMULATOR_ENABLED) {
    const simulator = await startSimulatorServer(config);
    stops.push({ name: 'simulator', stop: simulator.close });
    log.info({ url: simulator.url }, 'Meta Graph API simulator listening');
  }

  const store = await openMessageStore(config);
  stops.push({ name: 'message store', stop: () => store.close() });
  const client = await createTemporalClient(config);
  stops.push({ name: 'Temporal client', stop: () => client.connection.close() });

  const worker = await createWorker(config, { client, store });
  const running = worker.run();
  stops.push({
    name: 'worker',
    stop: async () => {
      worker.shutdown();
      await running;
    },
  });
  running.catch((err) => {
    log.error({ err }, 'worker failed');
    void shutdown('worker failure');
  });
  log.info(
    { taskQueue: config.TEMPORAL_TASK_QUEUE, ...(workerMetrics ? { metrics: `http://${workerMetrics}/metrics` } : {}) },
    'worker polling',
  );

  const api = await startApi(config, client, store, log);
  stops.push({ name: 'API', stop: api.close });
  log.info({ url: api.url }, 'API listening');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
