/**
 * Benchmark 2, interpreter overhead: the conversation's customer-message flow run (a) by the
 * XState interpreter (conversationWorkflow) and (b) by a hand-written workflow with the same
 * activity and timer (bench/workflows.ts), driven by the same signal-with-starts from a second
 * process. Worker CPU time per event, workflow-task latency (scheduled → completed, from the
 * histories, and the worker's part of it, started → completed) and replay time per history.
 */
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { dataConverter, FAILURE_CONVERTER_PATH } from '../security/payload-codec';
import { conversationWorkflowId } from '../contracts/ids';
import { runLoad } from './lib/load';
import { Failures, option, percentile, printTable, progress, runBench } from './lib/report';
import { startStack, type Stack } from './lib/stack';
import { customerWaId, operations, type TrafficSpec } from './lib/traffic';
import { inspect, mapLimit, waitIdle, workflowTaskLatencies } from './lib/workflows';

const BENCH = 'bench:interpreter';
const number = { phoneNumberId: '900000000002', wabaId: '800000000002', displayPhoneNumber: '15550990002' };

interface Measured {
  cpuMs: number;
  events: number;
  /** Scheduled → completed, ms. */
  taskLatencies: number[];
  /** Started → completed, ms. */
  taskExecutions: number[];
  replayMs: number;
  histories: number;
}

async function main(): Promise<Failures> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const workflows = option('workflows', 'BENCH_INTERPRETER_WORKFLOWS', 100);
  const events = option('events', 'BENCH_INTERPRETER_EVENTS', 20);
  const concurrency = option('concurrency', 'BENCH_INTERPRETER_CONCURRENCY', 10);
  const rounds = Math.max(1, option('rounds', 'BENCH_INTERPRETER_ROUNDS', 2));
  const warmup = option('warmup', 'BENCH_WARMUP', 100);
  const failures = new Failures();
  progress(BENCH, `starting the stack; ${rounds} rounds of ${workflows} workflows × ${events} customer messages per variant`);
  const stack = await startStack();
  try {
    const bundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('./workflows'),
      failureConverterPath: FAILURE_CONVERTER_PATH,
      logger: new DefaultLogger('ERROR'),
    });
    const variant = async (
      workflowType: string,
      run: string,
      customers: number,
      measure: boolean,
    ): Promise<Measured | undefined> => {
      const t: TrafficSpec = { run, ...number, customers, messagesPerCustomer: events };
      const ids = Array.from({ length: customers }, (_, c) => conversationWorkflowId(t.phoneNumberId, customerWaId(t, c)));
      const before = await stack.workerUsage();
      const result = await runLoad(BENCH, `${workflowType} ${run}`, {
        concurrency,
        job: {
          kind: 'signalWithStart',
          temporalAddress: stack.temporalAddress,
          taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
          workflowType,
          traffic: t,
        },
      });
      await waitIdle(BENCH, stack.client, ids);
      const after = await stack.workerUsage();
      failures.check(
        result.errors === 0,
        `${workflowType}: ${result.errors} signal-with-starts failed: ${result.errorSamples.join('; ')}`,
      );
      const seen = await inspect(stack.client, ids);
      const wrong = seen.filter((s) => s.eventCount !== events || s.duplicateCount !== 0);
      failures.check(
        wrong.length === 0,
        `${workflowType}: ${wrong.length} workflows lost or duplicated events, e.g. ${JSON.stringify(wrong[0])}`,
      );
      if (!measure) return undefined;
      return {
        cpuMs: (after.cpuMicros - before.cpuMicros) / 1000,
        events: operations(t),
        ...(await fromHistories(stack, ids, bundle, failures)),
      };
    };

    if (warmup > 0) {
      progress(BENCH, 'warm-up');
      const size = Math.max(1, Math.floor(warmup / events));
      await variant('handWrittenConversationWorkflow', '93', size, false);
      await variant('conversationWorkflow', '94', size, false);
    }
    // Rounds alternate which variant goes first, so that neither always meets the fuller server.
    const baselines: Measured[] = [];
    const measured: Measured[] = [];
    for (let round = 1; round <= rounds; round++) {
      const variants = [
        async () => baselines.push((await variant('handWrittenConversationWorkflow', `1${round}`, workflows, true))!),
        async () => measured.push((await variant('conversationWorkflow', `2${round}`, workflows, true))!),
      ];
      for (const run of round % 2 ? variants : variants.reverse()) await run();
    }
    const baseline = combined(baselines);
    const ours = combined(measured);

    printTable(
      `Interpreter overhead: ${rounds} × ${workflows} workflows × ${events} customer messages, concurrency ${concurrency} (baseline: hand-written workflow)`,
      [
        {
          metric: 'worker CPU per event',
          unit: 'ms',
          baseline: baseline.cpuMs / baseline.events,
          ours: ours.cpuMs / ours.events,
          target: '<= 1.2',
        },
        {
          metric: 'workflow-task latency p50',
          unit: 'ms',
          baseline: percentile(baseline.taskLatencies, 50),
          ours: percentile(ours.taskLatencies, 50),
          target: '<= 1.2',
        },
        {
          metric: 'workflow-task latency p99',
          unit: 'ms',
          baseline: percentile(baseline.taskLatencies, 99),
          ours: percentile(ours.taskLatencies, 99),
          target: '<= 1.2',
        },
        {
          metric: 'workflow-task execution p50',
          unit: 'ms',
          baseline: percentile(baseline.taskExecutions, 50),
          ours: percentile(ours.taskExecutions, 50),
          target: '<= 1.2',
        },
        {
          metric: 'workflow-task execution p99',
          unit: 'ms',
          baseline: percentile(baseline.taskExecutions, 99),
          ours: percentile(ours.taskExecutions, 99),
          target: '<= 1.2',
        },
        { metric: 'workflow tasks', baseline: baseline.taskLatencies.length, ours: ours.taskLatencies.length },
        {
          metric: 'replay per history',
          unit: 'ms',
          baseline: baseline.replayMs / baseline.histories,
          ours: ours.replayMs / ours.histories,
        },
      ],
    );
  } finally {
    await stack.stop();
  }
  return failures;
}

/** Task latencies from every history, then the time to replay them all against the same code. */
async function fromHistories(
  stack: Stack,
  ids: string[],
  bundle: Awaited<ReturnType<typeof bundleWorkflowCode>>,
  failures: Failures,
): Promise<Omit<Measured, 'cpuMs' | 'events'>> {
  const histories = await mapLimit(ids, 10, async (workflowId) => ({
    workflowId,
    history: await stack.client.workflow.getHandle(workflowId).fetchHistory(),
  }));
  const tasks = histories.map(({ history }) => workflowTaskLatencies(history));
  const taskLatencies = tasks.flatMap((t) => t.scheduledToCompleted);
  const taskExecutions = tasks.flatMap((t) => t.startedToCompleted);
  const started = performance.now();
  let replayed = 0;
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: bundle, replayName: 'bench', dataConverter: dataConverter(stack.config) },
    histories,
  )) {
    replayed++;
    failures.check(!result.error, `replay of ${result.workflowId} failed: ${result.error?.message}`);
  }
  return { taskLatencies, taskExecutions, replayMs: performance.now() - started, histories: replayed };
}

/** Rounds of one variant as one: summed times and counts, all latencies. */
function combined(rounds: Measured[]): Measured {
  const sum = (f: (m: Measured) => number) => rounds.reduce((n, m) => n + f(m), 0);
  return {
    cpuMs: sum((m) => m.cpuMs),
    events: sum((m) => m.events),
    taskLatencies: rounds.flatMap((m) => m.taskLatencies),
    taskExecutions: rounds.flatMap((m) => m.taskExecutions),
    replayMs: sum((m) => m.replayMs),
    histories: sum((m) => m.histories),
  };
}

runBench(BENCH, main);
