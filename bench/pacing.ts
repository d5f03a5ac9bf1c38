/**
 * Benchmark 3, pacing and what a message costs. Every send enters through the public send API
 * (a second process plays the backend), against the simulator enforcing Coexistence's 20 messages
 * per second with 130429. Read from the simulator's logs: the sustained rate from the accepted
 * sends; the busiest one-second interval of send *requests* (accepted or refused, as they arrived)
 * and the 130429 answers; for one number, then for 10 at once.
 *
 * Cost: for the 10-number run, the CPU time per delivered message of every process of ours (the
 * worker, the API — in this process, with the simulator —, PostgreSQL) plus the Temporal server,
 * and the Temporal actions per message (workflow tasks, activities, signals, updates, timers),
 * against a baseline on the same numbers in the same run that does the least durable thing: one
 * workflow per number running one activity per message, paced the same (bench/workflows.ts).
 */
import { resolve } from 'node:path';
import { onboardToActive } from '../test/helpers/onboard';
import { conversationWorkflowId, senderWorkflowId } from '../contracts/ids';
import { senderQuery } from '../contracts/sender';
import { COEXISTENCE_MESSAGES_PER_SECOND } from '../machines/meta-codes';
import { sendRate, type LoggedSendRequest } from '../test/helpers/send-rate';
import { processTreeCpuMicros } from './lib/cpu';
import { stackHttp } from './lib/http';
import { runLoad } from './lib/load';
import type { LoadResult } from './lib/load-process';
import { Failures, option, percentile, printGrid, printTable, progress, runBench, type Row } from './lib/report';
import { startStack, type Stack } from './lib/stack';
import { activityScheduleToStart, countActions, totalActions, waitIdle, type Actions } from './lib/workflows';

const BENCH = 'bench:pacing';
const LIMIT = COEXISTENCE_MESSAGES_PER_SECOND;

type Http = ReturnType<typeof stackHttp>;

interface NumberFigures {
  accepted: number;
  spanSeconds: number;
  sustainedPerSecond: number;
  busiestSecond: number;
  throttled: number;
}

interface Cost {
  /** µs by process */
  cpu: { worker: number; apiAndSimulator: number; temporal: number; postgres: number };
  actions: Actions;
  messages: number;
}

async function main(): Promise<Failures> {
  const sends = option('sends', 'BENCH_PACING_SENDS', 2_000);
  const numbers = option('numbers', 'BENCH_PACING_NUMBERS', 10);
  const sendsEach = option('sends-each', 'BENCH_PACING_SENDS_EACH', 1_200);
  const customers = option('customers', 'BENCH_PACING_CUSTOMERS', 30);
  const failures = new Failures();
  progress(BENCH, `starting the stack; ${sends} sends to one number, then ${sendsEach} to each of ${numbers} numbers at once`);
  const stack = await startStack({ api: true });
  try {
    const http = stackHttp(stack);
    const phones = Array.from({ length: numbers + 1 }, (_, i) => `+1555088${String(i).padStart(4, '0')}`);
    progress(BENCH, `onboarding ${phones.length} numbers to Active`);
    const ids = await Promise.all(phones.map((p) => onboardToActive(http, p)));
    const waIds = Array.from({ length: customers }, (_, i) => `1650777${String(i).padStart(4, '0')}`);
    await customersWrite(stack, http, phones, ids, waIds);
    // The statuses of the sends stay in the simulator's outbox: this measures the send path
    // (webhook ingestion is benchmarks 1 and 4).
    stack.sim.outbox.webhookUrl = undefined;

    const { figures: one } = await paced(stack, http, failures, 'one', [phones[0]!], [ids[0]!.phoneNumberId], waIds, sends);
    const manyPhones = phones.slice(1);
    const manyIds = ids.slice(1).map((i) => i.phoneNumberId);
    const conversations = manyIds.flatMap((id) => waIds.map((waId) => conversationWorkflowId(id, waId)));
    const ours = await measured(stack, conversations.concat(manyIds.map(senderWorkflowId)), () =>
      paced(stack, http, failures, 'many', manyPhones, manyIds, waIds, sendsEach * numbers),
    );
    const baselineIds = manyIds.map((id) => `baseline:${id}`);
    const baseline = await measured(stack, baselineIds, () =>
      pacedBaseline(stack, http, failures, manyPhones, manyIds, waIds, sendsEach),
    );
    const many = ours.result;
    const slowest = many.reduce((a, b) => (b.sustainedPerSecond < a.sustainedPerSecond ? b : a));
    const slowestBaseline = baseline.result.reduce((a, b) => (b.sustainedPerSecond < a.sustainedPerSecond ? b : a));
    const rows = (label: string, f: NumberFigures): Row[] => [
      { metric: `${label}: sustained rate`, unit: 'msg/s', baseline: LIMIT, ours: f.sustainedPerSecond, target: '>= 0.975' },
      {
        metric: `${label}: busiest one-second interval`,
        unit: 'msg',
        baseline: LIMIT,
        ours: f.busiestSecond,
        target: `<= ${LIMIT}`,
        absolute: true,
      },
      { metric: `${label}: 130429 answers`, baseline: 0, ours: f.throttled, target: '= 0', absolute: true },
    ];
    printTable(
      `Pacing: ${sends} sends to one number, then ${sendsEach} to each of ${numbers} numbers at once, all through the send API (baseline: Meta's ${LIMIT} msg/s)`,
      [
        ...rows('1 number', one[0]!),
        ...rows(`${numbers} numbers, slowest`, slowest),
        {
          metric: `${numbers} numbers: busiest interval of any`,
          unit: 'msg',
          baseline: LIMIT,
          ours: Math.max(...many.map((f) => f.busiestSecond)),
          target: `<= ${LIMIT}`,
          absolute: true,
        },
        {
          metric: `${numbers} numbers: 130429 answers, all`,
          baseline: 0,
          ours: many.reduce((s, f) => s + f.throttled, 0),
          target: '= 0',
          absolute: true,
        },
      ],
    );
    const perMessage = (c: Cost, µs: number) => µs / 1000 / c.messages;
    const cpuTotal = (c: Cost) => c.cpu.worker + c.cpu.apiAndSimulator + c.cpu.temporal + c.cpu.postgres;
    printTable(
      `What a message costs, ${numbers} numbers × ${sendsEach} sends (baseline: one workflow a number, one activity a message, paced the same, in the same run)`,
      [
        {
          metric: 'CPU per delivered message, all processes',
          unit: 'ms',
          baseline: perMessage(baseline, cpuTotal(baseline)),
          ours: perMessage(ours, cpuTotal(ours)),
          target: '<= 1.0',
        },
        ...(['worker', 'apiAndSimulator', 'temporal', 'postgres'] as const).map((k) => ({
          metric: `CPU per message, ${k}`,
          unit: 'ms',
          baseline: perMessage(baseline, baseline.cpu[k]),
          ours: perMessage(ours, ours.cpu[k]),
        })),
        {
          metric: 'Temporal actions per message',
          baseline: totalActions(baseline.actions) / baseline.messages,
          ours: totalActions(ours.actions) / ours.messages,
        },
        ...(['workflowTasks', 'activities', 'signals', 'updates', 'timers'] as const).map((k) => ({
          metric: `  ${k} per message`,
          baseline: baseline.actions[k] / baseline.messages,
          ours: ours.actions[k] / ours.messages,
        })),
        {
          metric: 'slowest number',
          unit: 'msg/s',
          baseline: slowestBaseline.sustainedPerSecond,
          ours: slowest.sustainedPerSecond,
        },
        {
          metric: 'longest history',
          unit: 'events',
          baseline: baseline.actions.longestHistory,
          ours: ours.actions.longestHistory,
        },
        {
          metric: 'largest workflow input',
          unit: 'bytes',
          baseline: baseline.actions.largestPayloadBytes,
          ours: ours.actions.largestPayloadBytes,
        },
      ],
    );
    // The sender's own counts, and from its history how long its batches waited for a worker.
    const senders = await Promise.all(
      ids.map(async ({ phoneNumberId }) => {
        const handle = stack.client.workflow.getHandle(senderWorkflowId(phoneNumberId));
        const waits: number[] = [];
        for await (const run of stack.client.workflow.list({ query: `WorkflowId = '${senderWorkflowId(phoneNumberId)}'` })) {
          waits.push(...activityScheduleToStart(await stack.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory()));
        }
        return { view: await handle.query(senderQuery), waits };
      }),
    );
    printGrid(
      "Pacing, each number: what the simulator accepted; the sender's counts; its batches' wait from scheduled to started",
      [
        'number',
        'accepted',
        'span (s)',
        'rate (msg/s)',
        'busiest second',
        'sender accepted',
        'throttled',
        'retried',
        'unconfirmed',
        'batches',
        'wait p50 (ms)',
        'wait max (ms)',
      ],
      [one[0]!, ...many].map((f, i) => {
        const { view, waits } = senders[i]!;
        return [
          phones[i]!,
          f.accepted,
          f.spanSeconds,
          f.sustainedPerSecond,
          f.busiestSecond,
          view.counts.accepted,
          view.counts.throttled,
          view.counts.retried,
          view.counts.unconfirmed,
          view.batches ?? NaN,
          percentile(waits, 50),
          waits.length ? Math.max(...waits) : NaN,
        ];
      }),
    );
  } finally {
    await stack.stop();
  }
  return failures;
}

/** Runs `work`, and reads the CPU time every process spent meanwhile and the actions of `workflowIds`. */
async function measured<T>(stack: Stack, workflowIds: string[], work: () => Promise<{ figures: T; messages: number }>) {
  const temporalDir = resolve(stack.config.TEMPORAL_DATA_DIR);
  const pgPort = stack.config.DATABASE_URL?.match(/:(\d+)\//)?.[1];
  const temporalCpu = () => processTreeCpuMicros((argv) => argv.some((a) => a.startsWith(temporalDir)));
  const postgresCpu = () =>
    pgPort ? processTreeCpuMicros((argv) => /postgres$/.test(argv[0] ?? '') && argv.includes(pgPort)) : 0;
  const cpu = async () => {
    const { user, system } = process.cpuUsage();
    return {
      worker: (await stack.workerUsage()).cpuMicros,
      apiAndSimulator: user + system,
      temporal: temporalCpu(),
      postgres: postgresCpu(),
    };
  };
  const since = Date.now();
  const before = await cpu();
  const { figures, messages } = await work();
  await waitIdle(BENCH, stack.client, workflowIds);
  const after = await cpu();
  const actions = await countActions(stack.client, workflowIds, since);
  const delta = Object.fromEntries(
    Object.entries(after).map(([k, v]) => [k, v - before[k as keyof typeof before]]),
  ) as Cost['cpu'];
  return { result: figures, cpu: delta, actions, messages } satisfies Cost & { result: T };
}

/** Each customer writes to each number first, so that their conversations run and take the send outcomes. */
async function customersWrite(stack: Stack, http: Http, phones: string[], ids: { phoneNumberId: string }[], waIds: string[]) {
  progress(BENCH, `${waIds.length} customers write to each number`);
  for (const phone of phones) {
    await Promise.all(waIds.map((waId) => http.sim('POST', `/numbers/${phone}/customers/${waId}/messages`, { text: 'Hello' })));
  }
  const conversations = ids.flatMap(({ phoneNumberId }) => waIds.map((waId) => conversationWorkflowId(phoneNumberId, waId)));
  for (;;) {
    const { body } = await http.sim('GET', '/webhooks');
    if (body.pending === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await waitIdle(BENCH, stack.client, conversations);
}

/** Sends `count` messages through the send API and reads, per number, what the simulator accepted. */
async function paced(
  stack: Stack,
  http: Http,
  failures: Failures,
  run: string,
  phones: string[],
  phoneNumberIds: string[],
  waIds: string[],
  count: number,
): Promise<{ figures: NumberFigures[]; messages: number }> {
  const load = runLoad(BENCH, `send ${count} messages to ${phones.length} number(s) through the API`, {
    concurrency: 40,
    job: { kind: 'apiSends', apiUrl: stack.apiUrl, apiKey: stack.apiKey, count, phoneNumberIds, waIds, run },
  });
  return { figures: await accepted(http, failures, run, phones, count, load), messages: count };
}

/** The baseline: one workflow a number sending `each` messages, one activity a message. */
async function pacedBaseline(
  stack: Stack,
  http: Http,
  failures: Failures,
  phones: string[],
  phoneNumberIds: string[],
  waIds: string[],
  each: number,
) {
  const run = 'baseline';
  const started = Promise.all(
    phoneNumberIds.map((phoneNumberId) =>
      stack.client.workflow.execute('pacedBaselineWorkflow', {
        workflowId: `baseline:${phoneNumberId}`,
        taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
        args: [{ phoneNumberId, waIds, count: each, run }],
      }),
    ),
  ).then(() => ({ errors: 0, errorSamples: [] as string[] }));
  const figures = await accepted(http, failures, run, phones, each * phones.length, started);
  return { figures, messages: each * phones.length };
}

/** Waits until the simulator accepted `count` sends of `run` (and the load is done); each number's figures. */
async function accepted(
  http: Http,
  failures: Failures,
  run: string,
  phones: string[],
  count: number,
  load: Promise<{ errors: number; errorSamples: string[] }>,
): Promise<NumberFigures[]> {
  // The runs share numbers one after the other: a run's requests are those from its start (the simulator runs in this process).
  const since = Date.now();
  const read = () =>
    Promise.all(
      phones.map(async (phone) => {
        const { sent, requests } = (await http.sim('GET', `/numbers/${phone}/sent`)).body as SentLog;
        return { sent: sent.filter((s) => s.bizOpaqueCallbackData?.startsWith(`bench-${run}-`)), requests };
      }),
    );
  const deadline = Date.now() + ((count / phones.length / LIMIT) * 4 + 300) * 1000;
  let logs = await read();
  let loadDone = false;
  void load.then(() => (loadDone = true));
  const total = () => logs.reduce((s, l) => s + l.sent.length, 0);
  while (total() < count || !loadDone) {
    if (Date.now() > deadline) {
      failures.check(false, `run ${run}: only ${total()} of ${count} sends accepted by the deadline`);
      break;
    }
    await new Promise((r) => setTimeout(r, 5_000));
    logs = await read();
    progress(BENCH, `${run}: ${total()}/${count} accepted by the simulator`);
  }
  const result = await load;
  if ('latencies' in result) {
    // How the send API took the feed: its first requests against the rest, and what was tried again.
    const { latencies, durationMs, retries, tooMany = 0 } = result as LoadResult;
    const first = latencies.slice(0, 1000);
    progress(
      BENCH,
      `${run}: the API took ${latencies.length} sends in ${(durationMs / 1000).toFixed(1)} s; latency p50 ` +
        `${percentile(first, 50)} ms for the first ${first.length}, ${percentile(latencies.slice(1000), 50)} ms after; ` +
        `${retries} 503 and ${tooMany} 429 tried again`,
    );
  }
  failures.check(result.errors === 0, `run ${run}: ${result.errors} sends failed: ${result.errorSamples.join('; ')}`);
  const ids = logs.flatMap((l) => l.sent.map((s) => s.bizOpaqueCallbackData));
  failures.check(new Set(ids).size === ids.length, `run ${run}: ${ids.length - new Set(ids).size} sends reached Meta twice`);
  failures.check(ids.length === count, `run ${run}: ${ids.length} of ${count} sends reached Meta`);
  return logs.map(({ sent, requests }) =>
    figures(
      sent.map((s) => s.acceptedAt),
      requests,
      since,
    ),
  );
}

interface SentLog {
  sent: { bizOpaqueCallbackData: string | null; acceptedAt: number }[];
  /** Every send request the number received, accepted or refused. */
  requests: LoggedSendRequest[];
}

/**
 * Sustained rate over the run from the accepted sends; the most requests Meta received within any
 * one second, and its 130429 answers, from the requests (the simulator's limit caps only the former).
 */
function figures(acceptedAt: number[], requests: LoggedSendRequest[], since: number): NumberFigures {
  const times = [...acceptedAt].sort((a, b) => a - b);
  const { busiestSecond, refused130429: throttled } = sendRate(requests, since);
  const spanSeconds = times.length > 1 ? (times[times.length - 1]! - times[0]!) / 1000 : NaN;
  return { accepted: times.length, spanSeconds, sustainedPerSecond: (times.length - 1) / spanSeconds, busiestSecond, throttled };
}

runBench(BENCH, main);
