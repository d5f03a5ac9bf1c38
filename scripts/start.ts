/**
 * `npm start`: the embedded stack in one command. Starts the Temporal dev server (unless
 * TEMPORAL_ADDRESS names a server), the Meta Graph simulator (unless SIMULATOR_ENABLED=false),
 * the worker and the API; prints where each is once the stack answers; stops them all, in
 * reverse order, on Ctrl-C.
 *
 * All or nothing: every port is checked before anything starts (one line naming the variable to
 * change), a Temporal server it did not start is never adopted (only TEMPORAL_ADDRESS chooses
 * one), and on any error everything started so far is stopped before the process exits 1.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { openMessageStore } from '../store';
import { startApi } from '../api/server';
import { createTemporalClient } from '../client';
import { ConfigError, loadConfig, localApiUrl, temporalAddress, type Config } from '../config';
import { createLogger, logFormat } from '../logger';
import { temporalPrometheus, workerMetricsAddress } from '../observability/worker-metrics';
import { startPushDispatcher } from '../activities/backend-push';
import { createWorker } from '../worker';
import { startDevServer } from './dev-server';
import { startSimulatorServer } from '../simulator/server';
import { devServerSearchAttributeArgs } from '../contracts/search-attributes';
import { ensureTemporalBinaries } from './temporal-binaries';
import { plannedPorts, portProblems } from './start-ports';
import { startCodecRelay } from './codec-relay';
import { startBanner, type StartedStack } from './banner';

/** A failure the user fixes from its message alone: printed as is, without a stack trace. */
class StartError extends Error {}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
  // Every part logs in the one format chosen here (a terminal: pretty).
  config = { ...config, LOG_FORMAT: logFormat(config) };
  const log = createLogger(config, 'start');

  const problems = await portProblems(plannedPorts(config));
  if (problems.length > 0) {
    for (const line of problems) console.error(`npm start: ${line}`);
    process.exit(1);
  }

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
  const stopAll = async () => {
    for (const { name, stop } of stops.reverse()) {
      try {
        await stop();
        log.info(`${name} stopped`);
      } catch (err) {
        log.error({ err }, `${name} did not stop cleanly`);
      }
    }
    stops.length = 0;
  };
  const shutdown = async (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, 'stopping');
    await stopAll();
    process.exit(code);
  };
  /** Registers what was just started; a stop asked for meanwhile stops it too. */
  const started = (name: string, stop: () => Promise<void>) => {
    stops.push({ name, stop });
    if (stopping) throw new StartError('stopped during start-up');
  };
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));

  try {
    const stack: StartedStack = { temporalAddress: temporalAddress(config) };
    if (!config.TEMPORAL_ADDRESS) {
      const { cli } = ensureTemporalBinaries();
      // The Web UI decrypts payloads through the API's codec; locally through a relay that holds an
      // ops token, so that no setting needs touching (scripts/codec-relay.ts).
      const uiOrigins = [`http://127.0.0.1:${config.TEMPORAL_DEV_UI_PORT}`, `http://localhost:${config.TEMPORAL_DEV_UI_PORT}`];
      let codecEndpoint = `${localApiUrl(config)}/codec`;
      if (config.COEXIST_ENV === 'local') {
        const relay = await startCodecRelay({
          apiCodecUrl: codecEndpoint,
          token: config.OPS_TOKENS[0]!.token,
          origins: uiOrigins,
        });
        started('codec relay', relay.close);
        codecEndpoint = relay.url;
      }
      const server = await step('the Temporal dev server', () =>
        startDevServer(config, cli, [...devServerSearchAttributeArgs(), '--ui-codec-endpoint', codecEndpoint], (stop) =>
          started('Temporal dev server', stop),
        ),
      );
      log.info({ address: server.address, webUi: server.uiUrl, db: server.dbFile, codecEndpoint }, 'Temporal dev server ready');
      stack.devServer = { uiUrl: server.uiUrl, dbFile: server.dbFile, codecRelay: config.COEXIST_ENV === 'local' };
    } else {
      log.info({ address: temporalAddress(config) }, 'using the Temporal server at TEMPORAL_ADDRESS');
    }

    if (config.SIMULATOR_ENABLED) {
      const simulator = await step('the simulator (SIMULATOR_PORT)', () => startSimulatorServer(config));
      started('simulator', simulator.close);
      log.info({ url: simulator.url }, 'Meta Graph API simulator listening');
      stack.simulatorUrl = simulator.url;
    }

    const store = await step('the message store (DATABASE_URL)', () => openMessageStore(config));
    started('message store', () => store.close());
    const client = await step(`the Temporal client (${temporalAddress(config)})`, () => createTemporalClient(config));
    started('Temporal client', () => client.connection.close());

    const worker = await step('the worker', () => createWorker(config, { client, store }));
    const running = worker.run();
    started('worker', async () => {
      worker.shutdown();
      await running;
    });
    running.catch((err) => {
      log.error({ err }, 'worker failed');
      void shutdown('worker failure', 1);
    });
    const pushes = startPushDispatcher({ config, store, log });
    started('push dispatcher', pushes.stop);
    log.info(
      { taskQueue: config.TEMPORAL_TASK_QUEUE, ...(workerMetrics ? { metrics: `http://${workerMetrics}/metrics` } : {}) },
      'worker polling',
    );

    const api = await step('the API (API_HOST, API_PORT)', () => startApi(config, client, store, log));
    started('API', api.close);
    log.info({ url: api.url }, 'API listening');

    await untilHealthy(api.url);
    if (!stopping) process.stdout.write(startBanner(config, stack));
  } catch (err) {
    if (stopping) return;
    stopping = true;
    log.debug({ err }, 'start failed');
    await stopAll();
    console.error(`npm start: ${describeFailure(err, config)}`);
    process.exit(1);
  }
}

/** The API answers /health with Temporal serving (the stack's own check), within a minute. */
async function untilHealthy(apiUrl: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${apiUrl}/health`, { signal: AbortSignal.timeout(5_000) });
      if (response.ok) return;
      last = `HTTP ${response.status}: ${await response.text()}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new StartError(`the API at ${apiUrl} did not report healthy within 60 s (${last})`);
}

/** Runs one part's start; its failure names the part (and the variables that set it up). */
async function step<T>(part: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    throw new StartError(`${part} did not start: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
}

/**
 * What went wrong, without a stack trace (LOG_LEVEL=debug logs it): a port taken after the check
 * names its variable.
 */
function describeFailure(err: unknown, config: Config): string {
  const cause = (err instanceof StartError ? err.cause : err) as NodeJS.ErrnoException & { port?: number };
  if (cause?.code === 'EADDRINUSE' && cause.port !== undefined) {
    const variable = plannedPorts(config).find((p) => p.port === cause.port)?.variable;
    if (variable) return `${variable}=${cause.port} was taken while starting: set ${variable} to a free port`;
  }
  return err instanceof Error ? err.message : String(err);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
