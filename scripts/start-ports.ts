/**
 * `npm start` checks every port it is about to listen on before it starts anything, so that a
 * taken port is one line naming the variable to change, not a stack trace after half the stack
 * came up, and so that a Temporal server already on the dev server's port is never adopted.
 */
import { createServer } from 'node:net';
import type { Config } from '../config';
import { workerMetricsAddress } from '../observability/worker-metrics';

export interface PlannedPort {
  variable: keyof Config;
  host: string;
  port: number;
  /** What to do instead, besides choosing another port. */
  hint?: string;
}

/** The ports `npm start` listens on with this configuration. */
export function plannedPorts(config: Config): PlannedPort[] {
  const ports: PlannedPort[] = [];
  if (!config.TEMPORAL_ADDRESS) {
    ports.push({
      variable: 'TEMPORAL_DEV_SERVER_PORT',
      host: '127.0.0.1',
      port: config.TEMPORAL_DEV_SERVER_PORT,
      hint: `or, to use the Temporal server listening there, TEMPORAL_ADDRESS=127.0.0.1:${config.TEMPORAL_DEV_SERVER_PORT}`,
    });
    ports.push({ variable: 'TEMPORAL_DEV_UI_PORT', host: '127.0.0.1', port: config.TEMPORAL_DEV_UI_PORT });
  }
  if (config.SIMULATOR_ENABLED)
    ports.push({
      variable: 'SIMULATOR_PORT',
      host: '127.0.0.1',
      port: config.SIMULATOR_PORT,
      hint: 'or SIMULATOR_ENABLED=false',
    });
  if (workerMetricsAddress(config))
    ports.push({
      variable: 'WORKER_METRICS_PORT',
      host: config.WORKER_METRICS_HOST,
      port: config.WORKER_METRICS_PORT,
      hint: 'or 0 for none',
    });
  ports.push({ variable: 'API_PORT', host: config.API_HOST, port: config.API_PORT });
  return ports;
}

/** Why the port cannot be listened on, or undefined when it can. */
function probe(host: string, port: number): Promise<string | undefined> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      done(err.code === 'EADDRINUSE' ? 'is in use' : err.code === 'EACCES' ? 'is not allowed' : `cannot be used (${err.code})`),
    );
    server.listen({ host, port, exclusive: true }, () => server.close(() => done(undefined)));
  });
}

/** One line per port that cannot be used, each naming the variable to change; empty when all are free. */
export async function portProblems(ports: PlannedPort[]): Promise<string[]> {
  const problems: string[] = [];
  ports.forEach((p, i) => {
    const first = ports.findIndex((q) => q.port === p.port);
    if (first < i)
      problems.push(`${p.variable}=${p.port} is also ${ports[first]!.variable}'s port: set ${p.variable} to another port`);
  });
  for (const p of ports.filter((p, i) => ports.findIndex((q) => q.port === p.port) === i)) {
    const why = await probe(p.host, p.port);
    if (why)
      problems.push(
        `${p.variable}=${p.port}: ${p.host}:${p.port} ${why}: set ${p.variable} to a free port${p.hint ? `, ${p.hint}` : ''}`,
      );
  }
  return problems;
}
