/**
 * Benchmark 4, scale: N live conversation workflows, each started and fed by a few signed
 * webhooks from a second process, on a fresh stack per N. Worker RSS, the dev server's disk,
 * webhook throughput and the longest history of any run, against N; the smallest N is the baseline.
 */
import { loadavg } from 'node:os';
import { conversationWorkflowId } from '../contracts/ids';
import { runLoad, throughput } from './lib/load';
import { Failures, listOption, option, printGrid, printTable, progress, runBench } from './lib/report';
import { startStack } from './lib/stack';
import { customerWaId, type TrafficSpec } from './lib/traffic';
import { waitApplied, waitIdle } from './lib/workflows';

const BENCH = 'bench:scale';
const number = { phoneNumberId: '900000000004', wabaId: '800000000004', displayPhoneNumber: '15550990004' };
/**
 * The longest history a run may reach: Temporal warns at 10 240 events. Conversations continue
 * as new after 1 000 events or when Temporal suggests it, well before.
 */
const HISTORY_BOUND = 10_240;

const mb = (bytes: number) => Math.round(bytes / 2 ** 20);

interface AtN {
  n: number;
  rssMb: number;
  /** Every V8 heap of the worker (main thread and workflow threads) after a full collection. */
  heapMb: number;
  /** Each worker's RSS after the run and heap after a full GC (MB): one per worker. */
  eachRssMb: number[];
  eachHeapMb: number[];
  diskMb: number;
  webhooksPerSecond: number;
  longestHistory: number;
  retries: number;
  minutes: number;
}

async function main(): Promise<Failures> {
  const sizes = listOption('sizes', 'BENCH_SCALE_SIZES', [1_000, 10_000]);
  const perConversation = option('messages', 'BENCH_SCALE_MESSAGES', 3);
  const concurrency = option('concurrency', 'BENCH_SCALE_CONCURRENCY', 20);
  const failures = new Failures();
  const results: AtN[] = [];
  let cache = 0;
  let workers = 1;
  for (const n of sizes) {
    const started = Date.now();
    progress(BENCH, `N = ${n}: starting a fresh stack; ${n * perConversation} webhooks, concurrency ${concurrency}`);
    const stack = await startStack({ api: true });
    cache = stack.config.WORKER_MAX_CACHED_WORKFLOWS;
    workers = stack.workers;
    try {
      await stack.registerNumber(number);
      const t: TrafficSpec = { run: String(n).slice(-5), ...number, customers: n, messagesPerCustomer: perConversation };
      // Every minute until every conversation is applied, each worker's RSS (and the cluster
      // server's): a long run that does not finish still shows how memory went.
      const sampler = setInterval(() => {
        void stack.workerUsage().then((u) => {
          const server = stack.serverRssBytes();
          progress(
            BENCH,
            `N = ${n} sample: worker RSS ${u.each.map((w) => mb(w.rssBytes)).join(' / ')} MB` +
              (server ? `, Temporal server RSS ${mb(server)} MB` : '') +
              `, load average ${loadavg()[0]!.toFixed(1)}`,
          );
        });
      }, 60_000);
      const load = await runLoad(BENCH, `N = ${n} webhooks`, {
        concurrency,
        job: { kind: 'webhooks', url: `${stack.apiUrl}/webhooks/meta`, appSecret: stack.appSecret, traffic: t },
      }).catch((err) => {
        clearInterval(sampler);
        throw err;
      });
      progress(BENCH, `N = ${n}: posted in ${(load.durationMs / 1000).toFixed(0)} s, ${throughput(load).toFixed(1)} webhooks/s`);
      failures.check(load.errors === 0, `N = ${n}: ${load.errors} webhooks failed: ${load.errorSamples.join('; ')}`);
      const ids = Array.from({ length: n }, (_, c) => conversationWorkflowId(t.phoneNumberId, customerWaId(t, c)));
      // A 200 means kept in the inbox: each conversation has taken its messages once they are
      // applied. The inbox is watched until it is empty, then every conversation is read (a query
      // each: at large N a replay each, so read once, with time in proportion).
      const seen = await stack
        .inboxDrained(60 * 60_000)
        .then(() => progress(BENCH, `N = ${n}: inbox empty; reading every conversation`))
        .then(() => waitApplied(stack.client, ids, perConversation, Math.max(30 * 60_000, n * 60)))
        .finally(() => clearInterval(sampler));
      await waitIdle(BENCH, stack.client, ids, Math.max(30 * 60_000, n * 60));
      const usage = await stack.workerUsage();
      const retained = await stack.workerUsage({ gc: true });
      // A redelivery after a 503 may repeat a message Temporal had taken: dropped as a duplicate, never processed twice.
      const wrong = seen.filter((s) => s.eventCount !== perConversation);
      failures.check(
        wrong.length === 0,
        `N = ${n}: ${wrong.length} conversations lost or duplicated messages, e.g. ${JSON.stringify(wrong[0])}`,
      );
      results.push({
        n,
        rssMb: usage.rssBytes / 2 ** 20,
        heapMb: retained.heapUsedBytes / 2 ** 20,
        eachRssMb: usage.each.map((w) => mb(w.rssBytes)),
        eachHeapMb: retained.each.map((w) => mb(w.heapUsedBytes)),
        diskMb: (await stack.serverDiskBytes()) / 2 ** 20,
        webhooksPerSecond: throughput(load),
        longestHistory: Math.max(...seen.map((s) => s.historyLength)),
        retries: load.retries,
        minutes: (Date.now() - started) / 60_000,
      });
      progress(BENCH, `N = ${n}: ${JSON.stringify(results.at(-1))}`);
    } finally {
      await stack.stop();
    }
  }

  printGrid(
    `Scale: per N (${perConversation} messages per conversation, concurrency ${concurrency})`,
    [
      'N',
      'worker RSS after (MB, largest)',
      'worker heap after a full GC (MB, largest; every thread)',
      'each worker RSS / heap after GC (MB)',
      'server disk (MB)',
      'webhooks/s',
      'longest history (events)',
      '503s tried again',
      'minutes',
    ],
    results.map((r) => [
      r.n,
      r.rssMb,
      r.heapMb,
      r.eachRssMb.map((rss, i) => `${rss} / ${r.eachHeapMb[i]}`).join(', '),
      r.diskMb,
      r.webhooksPerSecond,
      r.longestHistory,
      r.retries,
      r.minutes,
    ]),
  );
  const small = results[0]!;
  const large = results.at(-1)!;
  printTable(`Scale: N = ${large.n} against N = ${small.n} (baseline: the smallest N; worker cache ${cache} workflows)`, [
    { metric: 'worker RSS', unit: 'MB', baseline: small.rssMb, ours: large.rssMb, target: '<= 1.2' },
    { metric: 'worker heap after a full GC (every thread)', unit: 'MB', baseline: small.heapMb, ours: large.heapMb },
    {
      metric: 'webhook throughput',
      unit: 'webhooks/s',
      baseline: small.webhooksPerSecond,
      ours: large.webhooksPerSecond,
      target: '>= 0.8',
    },
    { metric: 'server disk', unit: 'MB', baseline: small.diskMb, ours: large.diskMb },
    {
      metric: 'longest history of any run',
      unit: 'events',
      baseline: HISTORY_BOUND,
      ours: Math.max(...results.map((r) => r.longestHistory)),
      target: `<= ${HISTORY_BOUND}`,
      absolute: true,
    },
  ]);
  // Below workers × cache conversations the sticky caches are not yet full, so the smallest N
  // measures a smaller working set: memory flat in N is read from the first N that fills them.
  const full = results.find((r) => r.n >= workers * cache);
  if (full && full !== large && full !== small)
    printTable(`Scale: N = ${large.n} against N = ${full.n}, the first N that fills ${workers} × ${cache} cached workflows`, [
      { metric: 'worker RSS', unit: 'MB', baseline: full.rssMb, ours: large.rssMb, target: '<= 1.2' },
      {
        metric: 'worker heap after a full GC (every thread)',
        unit: 'MB',
        baseline: full.heapMb,
        ours: large.heapMb,
        target: '<= 1.2',
      },
      {
        metric: 'webhook throughput',
        unit: 'webhooks/s',
        baseline: full.webhooksPerSecond,
        ours: large.webhooksPerSecond,
        target: '>= 0.8',
      },
    ]);
  return failures;
}

runBench(BENCH, main);
