import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from './activities';
import { startPushDispatcher } from './activities/backend-push';
import { openMessageStore } from './store';
import { createTemporalClient } from './client';
import { loadConfig, temporalAddress, type Config } from './config';
import { createLogger } from './logger';
import { dataConverter } from './security/payload-codec';
import { COEXISTENCE_MESSAGES_PER_SECOND } from './machines/meta-codes';
import {
  freeLoopbackAddress,
  serveWorkerMetrics,
  temporalPrometheus,
  workerMetricsAddress,
  workerSinks,
} from './observability/worker-metrics';

/**
 * Worker settings, chosen for a 2-core machine running I/O-bound activities:
 * - maxCachedWorkflows: a cached workflow answers its next task without replaying its history;
 *   each one costs memory, so the cache is what bounds RSS. 1000 keeps the working set
 *   (onboardings in flight, recently active conversations) hot; the rest replay on demand.
 * - maxConcurrentWorkflowTaskExecutions: workflow tasks are CPU work; past a few dozen they only
 *   queue inside the process. 40 with 20 pollers keeps both cores busy under a backlog.
 * - maxConcurrentActivityTaskExecutions: activities mostly wait on Meta's HTTP; 100 at once.
 * - maxEagerActivityReservationsPerWorkflowTask: a number's sender starts up to 20 sends in one
 *   task; taken eagerly (returned with the task's completion) they skip the task queue. With the
 *   default 3, the other 17 went through matching, and under load on this machine some waited
 *   tens of seconds for a worker while eager ones started at once (BENCHMARKS.md, 3).
 * - workflowThreadPoolSize: one workflow thread per core.
 * - stickyQueueScheduleToStartTimeout: 10 s before a cached workflow's task may go to another worker.
 * - shutdownGraceTime: running activities get this long to finish on SIGTERM before being cancelled.
 */
export function workerTuning(config: Config): Partial<WorkerOptions> {
  return {
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    maxConcurrentWorkflowTaskExecutions: config.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    maxConcurrentWorkflowTaskPolls: Math.max(2, Math.floor(config.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS / 2)),
    maxConcurrentActivityTaskExecutions: config.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxEagerActivityReservationsPerWorkflowTask: COEXISTENCE_MESSAGES_PER_SECOND,
    workflowThreadPoolSize: 2,
    stickyQueueScheduleToStartTimeout: '10s',
    shutdownGraceTime: config.WORKER_SHUTDOWN_GRACE_MS,
  };
}

export async function createWorker(config: Config, deps: ActivityDeps & { connection?: NativeConnection }): Promise<Worker> {
  return Worker.create({
    connection: deps.connection ?? (await NativeConnection.connect({ address: temporalAddress(config) })),
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowsPath: require.resolve('./workflows'),
    activities: createActivities(config, deps),
    dataConverter: dataConverter(config),
    sinks: workerSinks(),
    ...workerTuning(config),
  });
}

if (require.main === module) {
  const config = loadConfig();
  const log = createLogger(config, 'worker');
  let metrics: Awaited<ReturnType<typeof serveWorkerMetrics>> | undefined;
  (async () => {
    // WORKER_METRICS_PORT serves coexist's metrics of this process and Temporal's, whose exporter
    // listens on a loopback port of its own (observability/worker-metrics.ts).
    const address = workerMetricsAddress(config);
    if (address) {
      const temporalMetrics = await freeLoopbackAddress();
      Runtime.install({ telemetryOptions: temporalPrometheus(temporalMetrics) });
      metrics = await serveWorkerMetrics(address, temporalMetrics);
      log.info({ url: metrics.url }, 'worker metrics');
    }
    const client = await createTemporalClient(config);
    const store = await openMessageStore(config);
    const worker = await createWorker(config, { client, store });
    const pushes = startPushDispatcher({ config, store, log });
    log.info({ address: temporalAddress(config), taskQueue: config.TEMPORAL_TASK_QUEUE }, 'worker polling');
    // On SIGINT / SIGTERM the SDK's Runtime shuts the worker down: no new tasks, running
    // activities get WORKER_SHUTDOWN_GRACE_MS to finish; run() resolves once they have.
    await worker.run();
    await pushes.stop();
    await metrics?.close();
    await client.connection.close();
    await store.close();
  })()
    .then(() => {
      log.info('worker stopped');
      process.exit(0);
    })
    .catch((err) => {
      log.error({ err }, 'worker failed');
      process.exit(1);
    });
}
