/**
 * The bench worker, a child process of each benchmark: the production worker (workerTuning,
 * every activity) on bench/workflows.ts, which adds the hand-written baselines. It answers
 * `usage` messages with its own CPU time and RSS, so the figures are the worker's alone.
 */
import workerThreads from 'node:worker_threads';
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
  /**
   * The main thread's V8 heap in use (activities, the SDK, the store); after a `gc` request, what a
   * full collection leaves on every heap: the main thread's and each workflow thread's.
   */
  heapUsedBytes: number;
}

/**
 * The SDK runs workflows in worker threads (`workflowThreadPoolSize`), each with its own V8 heap
 * that the main thread's `gc()` and heap figures do not reach. The bench worker keeps hold of
 * them as they are created, so that a full collection can reach every heap.
 */
const workflowThreads: workerThreads.Worker[] = [];
const NodeWorker = workerThreads.Worker;
workerThreads.Worker = class extends NodeWorker {
  constructor(...args: ConstructorParameters<typeof NodeWorker>) {
    super(...args);
    workflowThreads.push(this);
  }
};

/**
 * Bytes in use on every V8 heap after a full collection of each: the main thread's by `gc()`, each
 * workflow thread's by the heap snapshot V8 collects first (the snapshot's bytes pass through this
 * process and leave its RSS high for a while: RSS is read before), read from the diagnostic report.
 */
async function retainedHeapBytes(): Promise<number> {
  global.gc?.();
  for (const thread of workflowThreads) {
    const snapshot = await thread.getHeapSnapshot().catch(() => undefined); // a thread that has exited
    if (snapshot) await new Promise((done) => snapshot.on('end', done).on('error', done).resume());
  }
  global.gc?.();
  const report = process.report.getReport() as unknown as { workers: { javascriptHeap: { usedMemory: number } }[] };
  return process.memoryUsage().heapUsed + report.workers.reduce((sum, w) => sum + w.javascriptHeap.usedMemory, 0);
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
  process.on('message', async (message: { type: string; gc?: boolean }) => {
    if (message.type !== 'usage') return;
    // Started with --expose-gc: what stays after a full collection, not the last high-water mark.
    const { rss, heapUsed } = process.memoryUsage();
    const heapUsedBytes = message.gc ? await retainedHeapBytes() : heapUsed;
    const { user, system } = process.cpuUsage();
    process.send!({
      type: 'usage',
      usage: { cpuMicros: user + system, rssBytes: rss, heapUsedBytes } satisfies WorkerUsage,
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
