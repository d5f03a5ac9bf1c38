/**
 * The worker's Prometheus endpoint. Temporal's worker metrics (`temporal_*`: task slots, poll and
 * schedule-to-start latencies, sticky cache, activity and workflow task outcomes) come from the
 * SDK's own exporter, switched on where the Runtime is installed (worker.ts, scripts/start.ts).
 */
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { InjectedSinks, TelemetryOptions } from '@temporalio/worker';
import type { CoexistSinks } from '../contracts/sinks';
import type { Config } from '../config';
import { collectProcessMetrics, onboardingStageTransitions, registry } from './metrics';

/** Runtime telemetry: the SDK's Prometheus exporter serving `/metrics` at `bindAddress` (host:port). */
export function temporalPrometheus(bindAddress: string): TelemetryOptions {
  return { metrics: { prometheus: { bindAddress } } };
}

/** The workflows' sinks (contracts/sinks.ts), counted in this process's registry; never during replay. */
export function workerSinks(): InjectedSinks<CoexistSinks> {
  return {
    metrics: {
      stageChanged: {
        fn: (_info, from, to) => onboardingStageTransitions.inc({ from: from ?? 'none', to }),
        callDuringReplay: false,
      },
    },
  };
}

/** WORKER_METRICS_HOST:WORKER_METRICS_PORT, or undefined when WORKER_METRICS_PORT=0. */
export function workerMetricsAddress(config: Pick<Config, 'WORKER_METRICS_HOST' | 'WORKER_METRICS_PORT'>): string | undefined {
  return config.WORKER_METRICS_PORT ? `${config.WORKER_METRICS_HOST}:${config.WORKER_METRICS_PORT}` : undefined;
}

/** A free loopback address for the SDK's exporter when it is served through `serveWorkerMetrics`. */
export async function freeLoopbackAddress(): Promise<string> {
  const server = createTcpServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

/**
 * A worker running on its own (`npm run worker`): its activities record coexist's metrics (Meta
 * calls, sends, milestones) in this process, which has no API to serve them. One endpoint,
 * `http://<address>/metrics`, answers with both: coexist's registry and Temporal's metrics read
 * from the SDK's exporter on loopback (`temporalAddress`), so each worker is one scrape target.
 */
export async function serveWorkerMetrics(
  address: string,
  temporalAddress: string,
): Promise<{ url: string; close(): Promise<void> }> {
  collectProcessMetrics();
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /metrics\n');
      return;
    }
    Promise.all([registry.metrics(), temporalMetrics(temporalAddress)]).then(
      ([own, temporal]) => res.writeHead(200, { 'content-type': registry.contentType }).end([own, temporal].join('\n')),
      (err: Error) => res.writeHead(503, { 'content-type': 'text/plain' }).end(`metrics unavailable: ${err.message}\n`),
    );
  });
  const at = address.lastIndexOf(':');
  await new Promise<void>((resolve, reject) =>
    server.once('error', reject).listen(Number(address.slice(at + 1)), address.slice(0, at), resolve),
  );
  return {
    url: `http://${address}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function temporalMetrics(address: string): Promise<string> {
  const response = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`Temporal's exporter answered ${response.status}`);
  return response.text();
}
