/**
 * Benchmark 5, onboarding end to end: concurrent onboardings to Active through the API and the
 * simulator (no Meta latency), driven by a second process, against the same count of bare
 * workflows running as many no-op activities as one onboarding runs.
 */
import { onboardingWorkflowId } from '../contracts/ids';
import { runLoad, throughput } from './lib/load';
import type { LoadResult } from './lib/load-process';
import { Failures, option, percentile, printTable, progress, runBench } from './lib/report';
import { startStack, type Stack } from './lib/stack';
import { waitIdle } from './lib/workflows';

const BENCH = 'bench:onboarding';

async function main(): Promise<Failures> {
  const count = option('count', 'BENCH_ONBOARDINGS', 500);
  const concurrency = option('concurrency', 'BENCH_ONBOARDING_CONCURRENCY', count);
  const warmup = option('warmup', 'BENCH_WARMUP', 5) > 0 ? 5 : 0;
  const failures = new Failures();
  progress(BENCH, `starting the stack; ${count} onboardings, concurrency ${concurrency}`);
  const stack = await startStack({ api: true });
  try {
    const phones = (run: number, n: number) => Array.from({ length: n }, (_, i) => `+1555${run}${String(i).padStart(5, '0')}`);
    const onboard = (run: number, n: number) =>
      measured(stack, phones(run, n).map(onboardingWorkflowId), () =>
        runLoad(BENCH, `${n} onboardings`, {
          concurrency: Math.min(concurrency, n),
          job: {
            kind: 'onboardings',
            apiUrl: stack.apiUrl,
            simulatorUrl: stack.simulatorUrl,
            apiKey: stack.apiKey,
            phoneNumbers: phones(run, n),
          },
        }),
      );
    const bare = (run: number, n: number, activities: number) =>
      measured(
        stack,
        Array.from({ length: n }, (_, i) => `bare:${run}:${i}`),
        () =>
          runLoad(BENCH, `${n} bare workflows`, {
            concurrency: Math.min(concurrency, n),
            job: {
              kind: 'bareWorkflows',
              temporalAddress: stack.temporalAddress,
              taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
              count: n,
              activities,
              run: String(run),
            },
          }),
      );

    // One onboarding first: how many activities it runs, for the bare workflows.
    await onboard(40, 1);
    const history = await stack.client.workflow.getHandle(onboardingWorkflowId(phones(40, 1)[0]!)).fetchHistory();
    const activities = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes).length;
    progress(BENCH, `an onboarding runs ${activities} activities`);
    if (warmup) {
      await onboard(41, warmup);
      await bare(41, warmup, activities);
    }
    const baseline = await bare(51, count, activities);
    const ours = await onboard(52, count);
    for (const [name, r] of [
      ['bare workflows', baseline],
      ['onboardings', ours],
    ] as const) {
      failures.check(
        r.result.errors === 0,
        `${name}: ${r.result.errors} of ${r.result.count} failed: ${r.result.errorSamples.join('; ')}`,
      );
    }

    printTable(
      `Onboarding end to end: ${count} concurrent onboardings, no Meta latency (baseline: bare workflows of ${activities} no-op activities)`,
      [
        { metric: 'completed per second', unit: '/s', baseline: throughput(baseline.result), ours: throughput(ours.result) },
        {
          metric: 'time per onboarding p50',
          unit: 'ms',
          baseline: percentile(baseline.result.latencies, 50),
          ours: percentile(ours.result.latencies, 50),
        },
        {
          metric: 'time per onboarding p99',
          unit: 'ms',
          baseline: percentile(baseline.result.latencies, 99),
          ours: percentile(ours.result.latencies, 99),
        },
        { metric: 'worker CPU per onboarding', unit: 'ms', baseline: baseline.cpuMsEach, ours: ours.cpuMsEach },
        { metric: 'API 503 answers tried again', baseline: baseline.result.retries, ours: ours.result.retries },
      ],
    );
  } finally {
    await stack.stop();
  }
  return failures;
}

/** A load run, then its workflows' remaining work; the worker's CPU time per operation. */
async function measured(
  stack: Stack,
  ids: string[],
  load: () => Promise<LoadResult>,
): Promise<{ result: LoadResult; cpuMsEach: number }> {
  const before = await stack.workerUsage();
  const result = await load();
  await waitIdle(BENCH, stack.client, ids);
  const after = await stack.workerUsage();
  return { result, cpuMsEach: (after.cpuMicros - before.cpuMicros) / 1000 / ids.length };
}

runBench(BENCH, main);
