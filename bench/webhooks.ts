/**
 * Benchmark 1, webhook ingestion: signed `messages` webhooks posted to the API by a second
 * process (fixed concurrency and count), each answered 200 once kept in the inbox, then applied
 * by the dispatcher; against a raw client making the same signalWithStart calls directly on the
 * same server. A run counts until every message is in its conversation. Then one delivery of
 * 1,000 messages: its time to 200 and its time until all are applied.
 */
import { runLoad, throughput } from './lib/load';
import type { LoadResult } from './lib/load-process';
import { Failures, option, percentile, printTable, progress, runBench } from './lib/report';
import { startStack, type Stack } from './lib/stack';
import { customerWaId, operations, webhookBody, type TrafficSpec } from './lib/traffic';
import { inspect, waitApplied, waitIdle } from './lib/workflows';
import { signWebhook } from '../api/webhooks/signature';
import { conversationWorkflowId } from '../contracts/ids';
import { postRaw } from './lib/http';

const BENCH = 'bench:webhooks';
const number = { phoneNumberId: '900000000001', wabaId: '800000000001', displayPhoneNumber: '15550990001' };

async function main(): Promise<Failures> {
  const customers = option('customers', 'BENCH_WEBHOOK_CUSTOMERS', 200);
  const perCustomer = option('messages', 'BENCH_WEBHOOK_MESSAGES', 10);
  const concurrency = option('concurrency', 'BENCH_WEBHOOK_CONCURRENCY', 20);
  const rounds = Math.max(1, option('rounds', 'BENCH_WEBHOOK_ROUNDS', 2));
  const warmup = option('warmup', 'BENCH_WARMUP', 100);
  const bulk = option('bulk', 'BENCH_WEBHOOK_BULK', 1000);
  const failures = new Failures();
  progress(
    BENCH,
    `starting the stack; ${rounds} rounds of ${customers * perCustomer} webhooks per variant (${customers} customers × ${perCustomer}), concurrency ${concurrency}`,
  );
  const stack = await startStack({ api: true });
  try {
    await stack.registerNumber(number);
    const traffic = (run: string, size = customers): TrafficSpec => ({
      run,
      ...number,
      customers: size,
      messagesPerCustomer: perCustomer,
    });
    const raw = (t: TrafficSpec) =>
      runLoad(BENCH, `raw signalWithStart ${t.run}`, {
        concurrency,
        job: {
          kind: 'signalWithStart',
          temporalAddress: stack.temporalAddress,
          taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
          workflowType: 'conversationWorkflow',
          traffic: t,
        },
      });
    // The API runs in this process: its CPU time during a run is the API's (the simulator idles).
    let apiCpuMicros = 0;
    const ours = async (t: TrafficSpec) => {
      const before = process.cpuUsage();
      const result = await runLoad(BENCH, `API webhooks ${t.run}`, {
        concurrency,
        job: { kind: 'webhooks', url: `${stack.apiUrl}/webhooks/meta`, appSecret: stack.appSecret, traffic: t },
      });
      const cpu = process.cpuUsage(before);
      apiCpuMicros += cpu.user + cpu.system;
      return result;
    };

    if (warmup > 0) {
      progress(BENCH, 'warm-up');
      const size = Math.max(1, Math.floor(warmup / perCustomer));
      await settled(stack, traffic('91', size), raw, failures);
      await settled(stack, traffic('92', size), ours, failures);
    }
    // Rounds alternate which variant goes first, so that neither always meets the fuller server.
    const baselines: LoadResult[] = [];
    const measured: LoadResult[] = [];
    for (let round = 1; round <= rounds; round++) {
      const variants = [
        async () => baselines.push(await settled(stack, traffic(`1${round}`), raw, failures)),
        async () => measured.push(await settled(stack, traffic(`2${round}`), ours, failures)),
      ];
      for (const variant of round % 2 ? variants : variants.reverse()) await variant();
    }
    const baseline = combined(baselines);
    const ourResult = combined(measured);
    progress(BENCH, `one delivery of ${bulk} messages`);
    const oneDelivery = await bulkDelivery(stack, traffic('41', Math.max(1, Math.ceil(bulk / perCustomer))), bulk, failures);

    // Two halves: the answer (Meta's 200, once kept in the inbox) and the application (items in
    // their workflows); the baseline's "answer" is its signalWithStart returning, its application the same.
    printTable(
      `Webhook ingestion: ${rounds} × ${operations(traffic('1'))} signed webhooks (one item each), concurrency ${concurrency} (baseline: raw signalWithStart)`,
      [
        {
          metric: 'answer: throughput of 200s',
          unit: 'webhooks/s',
          baseline: throughput(baseline),
          ours: throughput(ourResult),
        },
        {
          metric: 'application: items applied in their workflows',
          unit: 'items/s',
          baseline: appliedThroughput(baselines),
          ours: appliedThroughput(measured),
          target: '>= 0.9',
        },
        {
          metric: 'answer: time to 200 p50',
          unit: 'ms',
          baseline: percentile(baseline.latencies, 50),
          ours: percentile(ourResult.latencies, 50),
        },
        {
          metric: 'answer: time to 200 p99',
          unit: 'ms',
          baseline: percentile(baseline.latencies, 99),
          ours: percentile(ourResult.latencies, 99),
        },
        { metric: '503 answers tried again', baseline: baseline.retries, ours: ourResult.retries },
        // Where the difference goes: what calls Temporal (the raw client's process; the API) and what posts the webhooks.
        {
          metric: 'CPU per webhook, caller of Temporal',
          unit: 'ms',
          baseline: cpuMsPer(baseline),
          ours: apiCpuMicros / 1000 / ourResult.count,
        },
        { metric: 'CPU per webhook, HTTP load generator', unit: 'ms', baseline: '', ours: cpuMsPer(ourResult) },
        { metric: `one delivery of ${bulk} messages: time to 200`, unit: 'ms', baseline: '', ours: oneDelivery.answeredMs },
        { metric: `one delivery of ${bulk} messages: time to applied`, unit: 'ms', baseline: '', ours: oneDelivery.appliedMs },
      ],
    );
  } finally {
    await stack.stop();
  }
  return failures;
}

/** Runs a variant's load, then waits for its conversations to process it; every message must be there once. */
async function settled(
  stack: Stack,
  t: TrafficSpec,
  load: (t: TrafficSpec) => Promise<LoadResult>,
  failures: Failures,
): Promise<LoadResult> {
  const started = Date.now();
  const result = await load(t);
  failures.check(result.errors === 0, `run ${t.run}: ${result.errors} operations failed: ${result.errorSamples.join('; ')}`);
  const ids = Array.from({ length: t.customers }, (_, c) => conversationWorkflowId(t.phoneNumberId, customerWaId(t, c)));
  // A 200 means kept: the run lasts until every message is in its conversation.
  await waitApplied(stack.client, ids, t.messagesPerCustomer);
  appliedMs.set(result, Date.now() - started);
  await waitIdle(BENCH, stack.client, ids);
  const seen = await inspect(stack.client, ids);
  // A redelivery after a 503 may repeat a message Temporal had taken: dropped as a duplicate, never processed twice.
  const wrong = seen.filter((s) => s.eventCount !== t.messagesPerCustomer);
  failures.check(
    wrong.length === 0,
    `run ${t.run}: ${wrong.length} conversations lost or duplicated messages, e.g. ${JSON.stringify(wrong[0])}`,
  );
  return result;
}

/** Per run: from its first operation until every message was in its conversation. */
const appliedMs = new WeakMap<LoadResult, number>();
const appliedThroughput = (results: LoadResult[]) =>
  (results.reduce((n, r) => n + r.count, 0) * 1000) / results.reduce((n, r) => n + (appliedMs.get(r) ?? NaN), 0);

/** One signed delivery of `total` messages of `t`'s customers: its time to 200 and until all are applied. */
async function bulkDelivery(stack: Stack, t: TrafficSpec, total: number, failures: Failures) {
  const deliveries = Array.from({ length: total }, (_, i) => JSON.parse(webhookBody(t, i)));
  const body = deliveries[0];
  body.entry[0].changes[0].value.messages = deliveries.map((d) => d.entry[0].changes[0].value.messages[0]);
  body.entry[0].changes[0].value.contacts = deliveries.map((d) => d.entry[0].changes[0].value.contacts[0]);
  const raw = JSON.stringify(body);
  const started = Date.now();
  const answer = await postRaw(`${stack.apiUrl}/webhooks/meta`, raw, {
    'x-hub-signature-256': signWebhook(raw, stack.appSecret),
  });
  const answeredMs = Date.now() - started;
  failures.check(answer.status === 200, `one delivery of ${total}: answered ${answer.status}`);
  const ids = Array.from({ length: t.customers }, (_, c) => conversationWorkflowId(t.phoneNumberId, customerWaId(t, c)));
  const perCustomer = (c: number) => Math.floor(total / t.customers) + (c < total % t.customers ? 1 : 0);
  await Promise.all(ids.map((id, c) => waitApplied(stack.client, [id], perCustomer(c))));
  return { answeredMs, appliedMs: Date.now() - started };
}

/** Rounds of one variant as one run: their operations over their summed load time. */
function combined(results: LoadResult[]): LoadResult {
  return {
    count: results.reduce((n, r) => n + r.count, 0),
    errors: results.reduce((n, r) => n + r.errors, 0),
    retries: results.reduce((n, r) => n + r.retries, 0),
    errorSamples: results.flatMap((r) => r.errorSamples),
    durationMs: results.reduce((n, r) => n + r.durationMs, 0),
    cpuMicros: results.reduce((n, r) => n + r.cpuMicros, 0),
    latencies: results.flatMap((r) => r.latencies),
  };
}

const cpuMsPer = (r: LoadResult) => r.cpuMicros / 1000 / r.count;

runBench(BENCH, main);
