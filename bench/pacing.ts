/**
 * Benchmark 3, pacing: sends handed to a number's sender (`sender:<phone_number_id>`) by a second
 * process, faster than Meta allows, against the simulator enforcing Coexistence's 20 messages per
 * second with 130429. Read from the simulator's logs: the sustained rate from the accepted sends;
 * the busiest one-second interval of send *requests* (accepted or refused, as they arrived) and
 * the 130429 answers; for one number, then for 10 at once.
 */
import { onboardToActive } from '../test/helpers/onboard';
import { conversationWorkflowId, senderWorkflowId } from '../contracts/ids';
import { senderQuery } from '../contracts/sender';
import { COEXISTENCE_MESSAGES_PER_SECOND } from '../machines/meta-codes';
import { sendRate, type LoggedSendRequest } from '../test/helpers/send-rate';
import { stackHttp } from './lib/http';
import { runLoad } from './lib/load';
import { Failures, option, percentile, printGrid, printTable, progress, runBench, type Row } from './lib/report';
import { startStack, type Stack } from './lib/stack';
import { activityScheduleToStart, waitIdle } from './lib/workflows';

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

async function main(): Promise<Failures> {
  const sends = option('sends', 'BENCH_PACING_SENDS', 2_000);
  const numbers = option('numbers', 'BENCH_PACING_NUMBERS', 10);
  const sendsEach = option('sends-each', 'BENCH_PACING_SENDS_EACH', 200);
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
    // The statuses of the sends stay in the simulator's outbox: this measures the sender alone
    // (webhook ingestion is benchmarks 1 and 4).
    stack.sim.outbox.webhookUrl = undefined;

    const one = await paced(stack, http, failures, 'one', [phones[0]!], [ids[0]!.phoneNumberId], waIds, sends);
    const many = await paced(
      stack,
      http,
      failures,
      'many',
      phones.slice(1),
      ids.slice(1).map((i) => i.phoneNumberId),
      waIds,
      sendsEach * numbers,
    );
    const slowest = many.reduce((a, b) => (b.sustainedPerSecond < a.sustainedPerSecond ? b : a));
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
      `Pacing: ${sends} sends to one number, then ${sendsEach} to each of ${numbers} numbers at once (baseline: Meta's ${LIMIT} msg/s)`,
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
    // The sender's own counts, and from its history how long its sends waited for a worker to pick them up.
    const senders = await Promise.all(
      ids.map(async ({ phoneNumberId }) => {
        const handle = stack.client.workflow.getHandle(senderWorkflowId(phoneNumberId));
        const waits: number[] = [];
        // Every run: a sender continues as new after 2 000 sends.
        for await (const run of stack.client.workflow.list({ query: `WorkflowId = '${senderWorkflowId(phoneNumberId)}'` })) {
          waits.push(...activityScheduleToStart(await stack.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory()));
        }
        return { counts: (await handle.query(senderQuery)).counts, waits };
      }),
    );
    printGrid(
      "Pacing, each number: what the simulator accepted; the sender's counts; its sends' wait from scheduled to started",
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
        'wait p50 (ms)',
        'wait p99 (ms)',
        'wait max (ms)',
      ],
      [one[0]!, ...many].map((f, i) => {
        const { counts, waits } = senders[i]!;
        return [
          phones[i]!,
          f.accepted,
          f.spanSeconds,
          f.sustainedPerSecond,
          f.busiestSecond,
          counts.accepted,
          counts.throttled,
          counts.retried,
          counts.unconfirmed,
          percentile(waits, 50),
          percentile(waits, 99),
          waits.length ? Math.max(...waits) : NaN,
        ];
      }),
    );
  } finally {
    await stack.stop();
  }
  return failures;
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

/** Hands `count` sends to the numbers' senders and reads, per number, what the simulator accepted. */
async function paced(
  stack: Stack,
  http: Http,
  failures: Failures,
  run: string,
  phones: string[],
  phoneNumberIds: string[],
  waIds: string[],
  count: number,
): Promise<NumberFigures[]> {
  const load = runLoad(BENCH, `enqueue ${count} sends to ${phones.length} number(s)`, {
    concurrency: 20,
    job: {
      kind: 'enqueueSends',
      temporalAddress: stack.temporalAddress,
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      count,
      phoneNumberIds,
      waIds,
      run,
    },
  });
  const accepted = () =>
    Promise.all(
      phones.map(async (phone) => {
        const { sent, requests } = (await http.sim('GET', `/numbers/${phone}/sent`)).body as SentLog;
        return { sent: sent.filter((s) => s.bizOpaqueCallbackData?.startsWith(`bench-${run}-`)), requests };
      }),
    );
  const deadline = Date.now() + ((count / phones.length / LIMIT) * 4 + 300) * 1000;
  let logs = await accepted();
  let loadDone = false;
  void load.then(() => (loadDone = true));
  const total = () => logs.reduce((s, l) => s + l.sent.length, 0);
  while (total() < count || !loadDone) {
    if (Date.now() > deadline) {
      failures.check(false, `run ${run}: only ${total()} of ${count} sends accepted by the deadline`);
      break;
    }
    await new Promise((r) => setTimeout(r, 5_000));
    logs = await accepted();
    progress(BENCH, `${run}: ${total()}/${count} accepted by the simulator`);
  }
  const result = await load;
  failures.check(result.errors === 0, `run ${run}: ${result.errors} enqueues failed: ${result.errorSamples.join('; ')}`);
  const ids = logs.flatMap((l) => l.sent.map((s) => s.bizOpaqueCallbackData));
  failures.check(new Set(ids).size === ids.length, `run ${run}: ${ids.length - new Set(ids).size} sends reached Meta twice`);
  failures.check(ids.length === count, `run ${run}: ${ids.length} of ${count} sends reached Meta`);
  return logs.map(({ sent, requests }) =>
    figures(
      sent.map((s) => s.acceptedAt),
      requests,
    ),
  );
}

interface SentLog {
  sent: { bizOpaqueCallbackData: string | null; acceptedAt: number }[];
  /** Every send request the number received (each number serves one run), accepted or refused. */
  requests: LoggedSendRequest[];
}

/**
 * Sustained rate over the run from the accepted sends; the most requests Meta received within any
 * one second, and its 130429 answers, from the requests (the simulator's limit caps only the former).
 */
function figures(acceptedAt: number[], requests: LoggedSendRequest[]): NumberFigures {
  const times = [...acceptedAt].sort((a, b) => a - b);
  const { busiestSecond, refused130429: throttled } = sendRate(requests);
  const spanSeconds = times.length > 1 ? (times[times.length - 1]! - times[0]!) / 1000 : NaN;
  return { accepted: times.length, spanSeconds, sustainedPerSecond: (times.length - 1) / spanSeconds, busiestSecond, throttled };
}

runBench(BENCH, main);
