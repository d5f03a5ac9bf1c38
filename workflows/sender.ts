/**
 * The per-number sender (`sender:<phone_number_id>`): the only place that sends a number's
 * messages to Meta, so that all of its conversations together stay within Coexistence's 20
 * messages per second (docs/meta.md#throughput).
 *
 * The queue is the message store (store/send-queue.ts), not this workflow: conversations record
 * their sends there, and this workflow only runs `sendBatch` activities one after the other, each
 * sending from the queue at the pace for up to `batchMs` (activities/sender.ts has the pacing, the
 * one-in-flight-per-customer rule and the never-twice claim). What it carries across batches and
 * continue-as-new is a few numbers: the answers of the last second, the 130429 backoff, counts.
 * So its history and input stay the same size whatever the backlog.
 *
 * It sleeps when the queue is empty or the number's sends are held, and is woken by a `wake`
 * signal (the next send, or the number able to send again) or by the time the batch named (a
 * delayed retry, a held send to fail).
 */
import { condition, continueAsNew, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { COEXISTENCE_MESSAGES_PER_SECOND } from '../machines/meta-codes';
import {
  enqueueSignal,
  senderQuery,
  wakeSignal,
  type SenderActivities,
  type SenderCounts,
  type SenderPace,
  type SenderView,
} from '../contracts/sender';
import { legacySenderWorkflow, type LegacySenderInput } from './sender-legacy';

/** Histories without this marker ran the legacy sender (its queue in workflow state). */
export const SEND_QUEUE_IN_STORE_PATCH = 'send-queue-in-store';

const BATCH_MS = 30_000;
const BATCHES_PER_RUN = 200;
/**
 * The longest sleep with nothing queued: a safety net only, since a send wakes a sleeping sender
 * and a request whose wake failed is retried (the API answers it 5xx, an activity is retried). An
 * idle number costs one short batch a day, not one every few minutes.
 */
const LONGEST_SLEEP_MS = 24 * 60 * 60_000;

// A retried batch is safe: every send is claimed in the store before it leaves, so a new attempt
// takes only what was never handed to Meta. The heartbeat ends a batch whose worker died.
const { sendBatch } = proxyActivities<SenderActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

interface SenderCarried extends SenderPace {
  counts: SenderCounts;
  batches: number;
}

export interface SenderInput extends Omit<LegacySenderInput, 'carried'> {
  carried?: SenderCarried | LegacySenderInput['carried'];
}

export async function senderWorkflow(input: SenderInput): Promise<void> {
  if (!patched(SEND_QUEUE_IN_STORE_PATCH)) return legacySenderWorkflow(input as LegacySenderInput);
  const { phoneNumberId, messagesPerSecond = COEXISTENCE_MESSAGES_PER_SECOND } = input;
  // A legacy run's carried queue is already in the store (its sends were recorded `queued`).
  const carried = input.carried && 'batches' in input.carried ? input.carried : undefined;
  let pace: SenderPace = {
    answers: carried?.answers ?? [],
    pausedUntil: carried?.pausedUntil ?? input.carried?.pausedUntil ?? 0,
    throttleStreak: carried?.throttleStreak ?? input.carried?.throttleStreak ?? 0,
  };
  const counts: SenderCounts = { accepted: 0, refused: 0, unconfirmed: 0, throttled: 0, retried: 0, expired: 0 };
  for (const [key, value] of Object.entries(carried?.counts ?? input.carried?.counts ?? {})) {
    counts[key as keyof SenderCounts] = value ?? 0;
  }
  let batches = carried?.batches ?? 0;
  let batchesThisRun = 0;
  let wakes = 0;
  let queued = 0;
  let inFlight = 0;
  let held: SenderView['held'];

  setHandler(wakeSignal, () => {
    wakes++;
  });
  // A conversation's send wakes the sender by the legacy signal too (whichever sender runs); the send is in the store.
  setHandler(enqueueSignal, () => {
    wakes++;
  });
  setHandler(senderQuery, () => ({
    phoneNumberId,
    queued,
    inFlight,
    ...(pace.pausedUntil > Date.now() ? { pausedUntil: new Date(pace.pausedUntil).toISOString() } : {}),
    ...(held ? { held } : {}),
    counts: { ...counts },
    batches,
  }));

  for (;;) {
    if (batchesThisRun >= BATCHES_PER_RUN || workflowInfo().continueAsNewSuggested) {
      return continueAsNew<typeof senderWorkflow>({
        phoneNumberId,
        messagesPerSecond,
        carried: { ...pace, counts, batches },
      });
    }
    const wakesBefore = wakes;
    inFlight = 1;
    const result = await sendBatch({ phoneNumberId, messagesPerSecond, batchMs: BATCH_MS, ...pace });
    inFlight = 0;
    batches++;
    batchesThisRun++;
    pace = { answers: result.answers, pausedUntil: result.pausedUntil, throttleStreak: result.throttleStreak };
    for (const [key, value] of Object.entries(result.counts)) {
      const k = key as keyof SenderCounts;
      counts[k] = (counts[k] ?? 0) + (value ?? 0);
    }
    queued = result.queued;
    held = result.held;
    if (result.next === 'continue') continue;
    // The next send or a released number wakes it; the longest sleep is a safety net only.
    const wakeAt = Math.min(result.wakeAt ?? Infinity, Date.now() + LONGEST_SLEEP_MS);
    await condition(() => wakes !== wakesBefore, Math.max(1, wakeAt - Date.now()));
  }
}
