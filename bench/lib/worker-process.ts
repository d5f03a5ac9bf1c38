/**
 * The bench worker, a child process of each benchmark: the production worker (workerTuning,
 * every activity) on bench/workflows.ts, which adds the hand-written baselines. It answers
 * `usage` messages with its own CPU time and RSS, so the figures are the worker's alone.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { openMessageStore } from '../../store';
import { createTemporalClient } from '../../client';
import { loadConfig, temporalAddress } from '../../config';
import { dataConverter } from '../../security/payload-codec';
import { workerTuning } from '../../worker';
import { benchActivities } from '../workflows';
import { createBaselineActivities } from './baseline-activities';

export interface WorkerUsage {
  /** User + system CPU time of the process, µs. */
  cpuMicros: number;
  rssBytes: number;
  heapUsedBytes: number;
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: ['SIGTERM', 'SIGINT'] });
  const config = loadConfig();
  const client = await createTemporalClient(config);
  const store = await openMessageStore(config);
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address: temporalAddress(config) }),
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowsPath: require.resolve('../workflows'),
    activities: {
      ...createActivities(config, { client, store }),
      ...benchActivities,
      ...createBaselineActivities(config, store),
    },
    dataConverter: dataConverter(config),
    ...workerTuning(config),
  });
  process.on('message', (message: { type: string; gc?: boolean }) => {
    if (message.type !== 'usage') return;
    // Started with --expose-gc: what stays after a full collection, not the last high-water mark.
    if (message.gc) global.gc?.();
    const { user, system } = process.cpuUsage();
    const { rss, heapUsed } = process.memoryUsage();
    process.send!({
      type: 'usage',
      usage: { cpuMicros: user + system, rssBytes: rss, heapUsedBytes: heapUsed } satisfies WorkerUsage,
    });
  });
  process.on('disconnect', () => worker.shutdown());
  const running = worker.run();
  process.send!({ type: 'ready' });
  await running;
  await store.close();
  await client.connection.close();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
