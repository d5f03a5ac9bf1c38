/**
 * Benchmark 6, a backlog: one number's queue filled through the send API up to its depth limit
 * (SEND_QUEUE_DEPTH_LIMIT = the backlog) while the number is offboarded, so that every send is
 * held; sends beyond the depth get 429. The number reconnects and the backlog drains: its rate,
 * busiest second and 130429s from the simulator's log, and the sender's largest workflow input
 * and longest history, which must not grow with the backlog.
 */
import { senderWorkflowId } from '../contracts/ids';
import { COEXISTENCE_MESSAGES_PER_SECOND } from '../machines/meta-codes';
import { stackHttp } from './lib/http';
import { runLoad } from './lib/load';
import { Failures, option, printTable, progress, runBench } from './lib/report';
import { startStack } from './lib/stack';
import { countActions } from './lib/workflows';
import { onboardToActive } from '../test/helpers/onboard';

const BENCH = 'bench:backlog';
const LIMIT = COEXISTENCE_MESSAGES_PER_SECOND;

async function main(): Promise<Failures> {
  const backlog = option('backlog', 'BENCH_BACKLOG', 100_000);
  const beyond = option('beyond', 'BENCH_BACKLOG_BEYOND', 100);
  const customers = option('customers', 'BENCH_BACKLOG_CUSTOMERS', 50);
  const concurrency = option('concurrency', 'BENCH_BACKLOG_CONCURRENCY', 40);
  const failures = new Failures();
  progress(BENCH, `starting the stack; a backlog of ${backlog} sends, then ${beyond} beyond the depth`);
  const stack = await startStack({ api: true, env: { SEND_QUEUE_DEPTH_LIMIT: String(backlog) } });
  try {
    const http = stackHttp(stack);
    const phone = '+15550890001';
    const { phoneNumberId } = await onboardToActive(http, phone);
    const waIds = Array.from({ length: customers }, (_, i) => `1650888${String(i).padStart(4, '0')}`);

    // Offboarded on Meta's side (ACCOUNT_OFFBOARDED, which the onboarding confirms by reading the
    // number): every send is held, so the queue reaches its depth. Dated a minute back, so that
    // the reconnection comes later.
    const offboarded = await http.sim('POST', `/numbers/${phone}/offboarded`, { time: Math.floor(Date.now() / 1000) - 60 });
    failures.check(offboarded.status === 200, `offboarding the number answered ${offboarded.status}`);
    await http.onboardingWhen(phone, (o) => o.statusCard.sendingState.canSend === false);

    const loadStarted = Date.now();
    const load = await runLoad(BENCH, `send ${backlog + beyond} messages through the API`, {
      concurrency,
      job: {
        kind: 'apiSends',
        apiUrl: stack.apiUrl,
        apiKey: stack.apiKey,
        count: backlog + beyond,
        phoneNumberIds: [phoneNumberId],
        // Templates: a held free-form message would fail when its window closed.
        waIds,
        run: 'backlog',
        giveUpOnTooMany: true,
      },
    });
    const acceptedPerSecond = ((backlog + beyond - (load.tooMany ?? 0)) / (Date.now() - loadStarted)) * 1000;
    failures.check(load.errors === 0, `${load.errors} sends failed: ${load.errorSamples.join('; ')}`);
    const accepted = backlog + beyond - (load.tooMany ?? 0);

    progress(BENCH, `${accepted} accepted, ${load.tooMany ?? 0} answered 429; reconnecting`);
    await http.sim('POST', `/numbers/${phone}/reconnect`);
    await http.onboardingWhen(phone, (o) => o.statusCard.sendingState.canSend === true);
    // The drain's statuses stay in the simulator's outbox: webhook ingestion is benchmarks 1 and 4.
    stack.sim.outbox.webhookUrl = undefined;
    const drainStarted = Date.now();
    const deadline = drainStarted + ((accepted / LIMIT) * 3 + 300) * 1000;
    let log: { sent: { acceptedAt: number; bizOpaqueCallbackData: string | null }[]; rejected: Record<number, number> };
    for (;;) {
      log = (await http.sim('GET', `/numbers/${phone}/sent`)).body;
      if (log.sent.length >= accepted) break;
      if (Date.now() > deadline) {
        failures.check(false, `only ${log.sent.length} of ${accepted} sent by the deadline`);
        break;
      }
      progress(BENCH, `drained ${log.sent.length}/${accepted}`);
      await new Promise((r) => setTimeout(r, 10_000));
    }
    const times = log.sent.map((s) => s.acceptedAt).sort((a, b) => a - b);
    let busiest = 0;
    for (let end = 0, start = 0; end < times.length; end++) {
      while (times[start]! <= times[end]! - 1000) start++;
      busiest = Math.max(busiest, end - start + 1);
    }
    const rate = (times.length - 1) / ((times[times.length - 1]! - times[0]!) / 1000);
    const ids = log.sent.map((s) => s.bizOpaqueCallbackData);
    failures.check(new Set(ids).size === ids.length, `${ids.length - new Set(ids).size} sends reached Meta twice`);
    const sender = await countActions(stack.client, [senderWorkflowId(phoneNumberId)], 0);
    printTable(`Backlog: ${backlog} sends held for one number, then drained (baseline: Meta's ${LIMIT} msg/s)`, [
      { metric: 'sends accepted (202)', baseline: backlog, ours: accepted, target: `>= ${backlog}`, absolute: true },
      { metric: 'sends beyond the depth answered 429', baseline: beyond, ours: load.tooMany ?? 0 },
      { metric: 'API sends accepted per second while filling', unit: '/s', baseline: LIMIT, ours: acceptedPerSecond },
      { metric: 'drain rate', unit: 'msg/s', baseline: LIMIT, ours: rate, target: '>= 0.975' },
      {
        metric: 'busiest one-second interval',
        unit: 'msg',
        baseline: LIMIT,
        ours: busiest,
        target: `<= ${LIMIT}`,
        absolute: true,
      },
      { metric: '130429 answers', baseline: 0, ours: log.rejected[130429] ?? 0, target: '= 0', absolute: true },
      {
        metric: "sender's largest workflow input",
        unit: 'bytes',
        baseline: 512 * 1024,
        ours: sender.largestPayloadBytes,
        target: '<= 0.01',
      },
      {
        metric: "sender's longest history (one run)",
        unit: 'events',
        baseline: 50_000,
        ours: sender.longestHistory,
        target: '<= 0.1',
      },
      { metric: 'sender activities (batches)', baseline: accepted, ours: sender.activities },
    ]);
  } finally {
    await stack.stop();
  }
  return failures;
}

runBench(BENCH, main);
