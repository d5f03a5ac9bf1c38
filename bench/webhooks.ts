/**
 * Benchmark 1, webhook ingestion: signed `messages` webhooks posted to the API by a second
 * process (fixed concurrency and count) until Temporal accepted each one's signal-with-start,
 * against a raw client making the same signalWithStart calls directly on the same server.
 */
import { runLoad, throughput } from './lib/load';
import type { LoadResult } from './lib/load-process';
import { Failures, option, percentile, printTable, progress, runBench } from './lib/report';
import { startStack, type Stack } from './lib/stack';
import { customerWaId, operations, type TrafficSpec } from './lib/traffic';
import { inspect, waitIdle } from './lib/workflows';
import { conversationWorkflowId } from '../workflows/ids';

const BENCH = 'bench:webhooks';
const number = { phoneNumberId: '900000000001', wabaId: '800000000001', displayPhoneNumber: '15550990001' };

async function main(): Promise<Failures> {
  const customers = option('customers', 'BENCH_WEBHOOK_CUSTOMERS', 200);
  const perCustomer = option('messages', 'BENCH_WEBHOOK_MESSAGES', 10);
  const concurrency = option('concurrency', 'BENCH_WEBHOOK_CONCURRENCY', 20);
  const warmup = option('warmup', 'BENCH_WARMUP', 100);
  const failures = new Failures();
  progress(BENCH, `starting the stack; ${customers * perCustomer} webhooks per run (${customers} customers × ${perCustomer}), concurrency ${concurrency}`);
  const stack = await startStack({ api: true });
  try {
    const traffic = (run: string, size = customers): TrafficSpec => ({ run, ...number, customers: size, messagesPerCustomer: perCustomer });
    const raw = (t: TrafficSpec) =>
      runLoad(BENCH, `raw signalWithStart ${t.run}`, {
        concurrency,
        job: { kind: 'signalWithStart', temporalAddress: stack.temporalAddress, taskQueue: stack.config.TEMPORAL_TASK_QUEUE, workflowType: 'conversationWorkflow', traffic: t },
      });
    const ours = (t: TrafficSpec) =>
      runLoad(BENCH, `API webhooks ${t.run}`, { concurrency, job: { kind: 'webhooks', url: `${stack.apiUrl}/webhooks/meta`, appSecret: stack.appSecret, traffic: t } });

    if (warmup > 0) {
      progress(BENCH, 'warm-up');
      const size = Math.max(1, Math.floor(warmup / perCustomer));
      await settle(stack, traffic('91', size), await raw(traffic('91', size)), failures);
      await settle(stack, traffic('92', size), await ours(traffic('92', size)), failures);
    }
    const baseline = await raw(traffic('11'));
    await settle(stack, traffic('11'), baseline, failures);
    const measured = await ours(traffic('12'));
    await settle(stack, traffic('12'), measured, failures);

    printTable(`Webhook ingestion: ${operations(traffic('12'))} signed webhooks, concurrency ${concurrency} (baseline: raw signalWithStart)`, [
      { metric: 'throughput', unit: 'webhooks/s', baseline: throughput(baseline), ours: throughput(measured), target: '>= 0.9' },
      { metric: 'latency p50', unit: 'ms', baseline: percentile(baseline.latencies, 50), ours: percentile(measured.latencies, 50) },
      { metric: 'latency p99', unit: 'ms', baseline: percentile(baseline.latencies, 99), ours: percentile(measured.latencies, 99) },
      { metric: '503 answers tried again', baseline: baseline.retries, ours: measured.retries },
    ]);
  } finally {
    await stack.stop();
  }
  return failures;
}

/** Waits for the run's conversations to process it; every message must be there once. */
async function settle(stack: Stack, t: TrafficSpec, result: LoadResult, failures: Failures): Promise<void> {
  failures.check(result.errors === 0, `run ${t.run}: ${result.errors} operations failed: ${result.errorSamples.join('; ')}`);
  const ids = Array.from({ length: t.customers }, (_, c) => conversationWorkflowId(t.phoneNumberId, customerWaId(t, c)));
  await waitIdle(BENCH, stack.client, ids);
  const seen = await inspect(stack.client, ids);
  // A redelivery after a 503 may repeat a message Temporal had taken: dropped as a duplicate, never processed twice.
  const wrong = seen.filter((s) => s.eventCount !== t.messagesPerCustomer);
  failures.check(wrong.length === 0, `run ${t.run}: ${wrong.length} conversations lost or duplicated messages, e.g. ${JSON.stringify(wrong[0])}`);
}

runBench(BENCH, main);
