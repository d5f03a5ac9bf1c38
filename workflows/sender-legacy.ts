/**
 * The per-number sender as it ran before its queue moved to the message store (./sender.ts runs it
 * for histories without the `send-queue-in-store` marker, so they replay; their next run is the new
 * sender, and the sends they carried are in the store as `queued`). Kept unchanged below.
 *
 * The per-number sender (`sender:<phone_number_id>`): the only place that sends a number's
 * messages to Meta, so that all of its conversations together stay within Coexistence's 20
 * messages per second (docs/meta.md#throughput).
 *
 * Pacing: `messagesPerSecond` slots, each a chain of sends in which a send reaches Meta no sooner
 * than a second after Meta answered the one before it (`answeredAt`, taken by the activity). Meta
 * receives a request before it answers, so each slot puts at most one request in any one-second
 * interval of Meta's clock, and all slots together at most the limit. The next send of a slot is
 * started as soon as the previous one's answer is known, with `notBefore` = that answer + 1 s: the
 * activity waits for it, so Temporal's own latency is hidden and a number sends close to the limit.
 * (Histories from before `pacing-not-before` freed a slot one second after the workflow saw the
 * finish, and started the next send then.) One send in flight per customer keeps each
 * conversation's order.
 *
 * Never twice: the activity is not retried by Temporal. Only an answer in which Meta says it did
 * not take the message (`retry`, `throttled`) sends it again; anything that may have reached Meta
 * is `unconfirmed`, and a status webhook carrying the client message id settles it later.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { ConversationEvent } from '../machines/conversation';
import type { OnboardingEvent } from '../machines/onboarding';
import { eventSignal, type MachineEvent } from '../contracts/machine-api';
import {
  COEXISTENCE_MESSAGES_PER_SECOND,
  isAuthorizationErrorCode,
  isSendingBlockCode,
  NUMBER_RATE_LIMIT_CODE,
} from '../machines/meta-codes';
import {
  enqueueSignal,
  senderQuery,
  type SendAnswer,
  type SenderActivities,
  type SendRequest,
  type SenderView,
} from '../contracts/sender';

const { sendMessage } = proxyActivities<SenderActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 1 },
});

/** Tries of a send that Meta did not take (retry or throttled) before it is failed. */
const MAX_ATTEMPTS = 10;
const SENDS_PER_RUN = 2_000;
const SEEN_KEPT = 20_000;
const SEEN_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

interface Queued {
  request: SendRequest;
  /** Answers in which Meta did not take it (retry, throttled). */
  attempts: number;
  notBefore: number;
}

interface SenderCarried {
  queue: Queued[];
  seen: [clientMessageId: string, at: number][];
  pausedUntil: number;
  throttleStreak: number;
  customerPausedUntil: [waId: string, until: number][];
  counts: SenderView['counts'];
  /** Answers of the last second, so a new run's first sends keep the pace. */
  finished?: number[];
}

export interface LegacySenderInput {
  phoneNumberId: string;
  messagesPerSecond?: number;
  carried?: SenderCarried;
}

export async function legacySenderWorkflow({
  phoneNumberId,
  messagesPerSecond = COEXISTENCE_MESSAGES_PER_SECOND,
  carried,
}: LegacySenderInput): Promise<void> {
  const queue: Queued[] = carried?.queue ?? [];
  const seen = new Map(carried?.seen ?? []);
  const customerPausedUntil = new Map(carried?.customerPausedUntil ?? []);
  const counts = carried?.counts ?? { accepted: 0, refused: 0, unconfirmed: 0, throttled: 0, retried: 0 };
  let pausedUntil = carried?.pausedUntil ?? 0;
  let throttleStreak = carried?.throttleStreak ?? 0;

  const busyCustomers = new Set<string>();
  const notBeforeMeta = patched('pacing-not-before');
  /** When the sends of the last second were answered, oldest first: each ends a slot's chain. */
  const finished: number[] = notBeforeMeta ? [...(carried?.finished ?? [])] : [];
  let inFlight = 0;
  let outstandingSignals = 0;
  let sendsThisRun = 0;
  let changes = 0;

  setHandler(enqueueSignal, (request) => {
    if (seen.has(request.clientMessageId)) return;
    remember(request.clientMessageId);
    queue.push({ request, attempts: 0, notBefore: 0 });
    changes++;
  });
  setHandler(senderQuery, () => ({
    phoneNumberId,
    queued: queue.length,
    inFlight,
    ...(pausedUntil > Date.now() ? { pausedUntil: new Date(pausedUntil).toISOString() } : {}),
    counts: { ...counts },
  }));

  function remember(clientMessageId: string) {
    const now = Date.now();
    for (const [id, at] of seen) {
      if (seen.size < SEEN_KEPT && now - at <= SEEN_RETENTION_MS) break;
      seen.delete(id);
    }
    seen.set(clientMessageId, now);
  }

  const continueAsNewDue = () => sendsThisRun >= SENDS_PER_RUN || workflowInfo().continueAsNewSuggested;

  for (;;) {
    if (continueAsNewDue()) {
      await condition(() => inFlight === 0 && outstandingSignals === 0 && allHandlersFinished());
      return continueAsNew<typeof legacySenderWorkflow>({
        phoneNumberId,
        messagesPerSecond,
        carried: {
          queue,
          seen: [...seen],
          pausedUntil,
          throttleStreak,
          customerPausedUntil: [...customerPausedUntil],
          counts,
          ...(notBeforeMeta ? { finished } : {}),
        },
      });
    }
    const now = Date.now();
    while (finished.length && finished[0]! <= now - 1000) finished.shift();

    if (now < pausedUntil) {
      await sleep(pausedUntil - now);
      continue;
    }
    const slotsFull = inFlight + finished.length >= messagesPerSecond;
    if (slotsFull && (!notBeforeMeta || !finished.length)) {
      // Before pacing-not-before: a finish inside the last second frees a slot only once it is a second old.
      if (finished.length) await sleep(Math.max(1, finished[0]! + 1000 - now));
      else await condition(() => finished.length > 0);
      continue;
    }
    const next = nextRunnable(now);
    if (next.index >= 0) {
      // With every slot taken, the send continues the chain that was answered first.
      start(queue.splice(next.index, 1)[0]!, slotsFull ? finished.shift()! + 1000 : undefined);
      continue;
    }
    const seenChanges = changes;
    const woken = () => changes !== seenChanges || continueAsNewDue();
    if (next.wakeAt !== undefined) await condition(woken, Math.max(1, next.wakeAt - now));
    else await condition(woken);
  }

  /** The first queued send whose customer is free; else when the earliest one will be. */
  function nextRunnable(now: number): { index: number; wakeAt?: number } {
    const waiting = new Set<string>();
    let wakeAt: number | undefined;
    for (let i = 0; i < queue.length; i++) {
      const { request, notBefore } = queue[i]!;
      if (busyCustomers.has(request.waId) || waiting.has(request.waId)) continue;
      const readyAt = Math.max(notBefore, customerPausedUntil.get(request.waId) ?? 0);
      if (readyAt <= now) return { index: i };
      waiting.add(request.waId); // later messages to this customer wait behind it
      wakeAt = Math.min(wakeAt ?? readyAt, readyAt);
    }
    return { index: -1, ...(wakeAt !== undefined ? { wakeAt } : {}) };
  }

  function start(item: Queued, notBefore?: number) {
    const { request } = item;
    inFlight++;
    sendsThisRun++;
    busyCustomers.add(request.waId);
    void (async () => {
      let outcome: SendAnswer;
      try {
        const input = { phoneNumberId, waId: request.waId, clientMessageId: request.clientMessageId, message: request.message };
        outcome = await sendMessage(notBefore === undefined ? input : { ...input, notBefore });
      } catch (err) {
        // The activity itself failed (timeout, worker lost): the request may have reached Meta.
        outcome = { outcome: 'unconfirmed', reason: (err as Error).message };
      }
      const at = Date.now();
      inFlight--;
      busyCustomers.delete(request.waId);
      // Meta's answer as the activity saw it (the clock its next notBefore is read on); else now.
      finished.push(notBeforeMeta && outcome.answeredAt !== undefined ? outcome.answeredAt : at);
      changes++;
      await settle(item, outcome, at);
    })();
  }

  async function settle(item: Queued, outcome: SendAnswer, at: number) {
    const { request } = item;
    switch (outcome.outcome) {
      case 'accepted':
        counts.accepted++;
        throttleStreak = 0;
        customerPausedUntil.delete(request.waId);
        return tell(request.conversationWorkflowId, {
          type: 'send.accepted',
          clientMessageId: request.clientMessageId,
          wamid: outcome.wamid,
          at,
        });
      case 'throttled':
        counts.throttled++;
        if (outcome.code === NUMBER_RATE_LIMIT_CODE) {
          throttleStreak++;
          pausedUntil = Math.max(pausedUntil, at + backoff(1_000, throttleStreak, 60_000));
        } else {
          customerPausedUntil.set(request.waId, at + backoff(6_000, item.attempts + 1, 300_000));
        }
        return retry(item, at, `Meta throttled the send (${outcome.code})`, 0);
      case 'retry':
        return retry(item, at, outcome.reason, backoff(1_000, item.attempts + 1, 60_000), outcome.code);
      case 'refused':
        return refuse(request, at, outcome.code, outcome.title, outcome.onboardingWorkflowId);
      case 'unconfirmed':
        counts.unconfirmed++;
        return tell(request.conversationWorkflowId, { type: 'send.unconfirmed', clientMessageId: request.clientMessageId, at });
    }
  }

  async function retry(item: Queued, at: number, reason: string, delayMs: number, code?: number) {
    item.attempts++;
    if (item.attempts >= MAX_ATTEMPTS)
      return refuse(item.request, at, code, `gave up after ${item.attempts} attempts: ${reason}`);
    counts.retried++;
    item.notBefore = at + delayMs;
    queue.unshift(item); // ahead of later messages to the same customer
    changes++;
  }

  async function refuse(
    request: SendRequest,
    at: number,
    code: number | undefined,
    title: string,
    onboardingWorkflowId?: string,
  ) {
    counts.refused++;
    await tell(request.conversationWorkflowId, {
      type: 'send.failed',
      clientMessageId: request.clientMessageId,
      title,
      at,
      ...(code !== undefined ? { code } : {}),
    });
    // Lost access (190, 10, 200–299, …) is told to the onboarding since `access-refusals`: a
    // sender whose history predates it replays without that signal.
    const tellsOnboarding = isAuthorizationErrorCode(code) ? patched('access-refusals') : isSendingBlockCode(code);
    if (tellsOnboarding && onboardingWorkflowId && code !== undefined) {
      await tell(onboardingWorkflowId, { type: 'send.refused', code, at } satisfies OnboardingEvent);
    }
  }

  async function tell(workflowId: string, event: ConversationEvent | OnboardingEvent) {
    outstandingSignals++;
    try {
      await getExternalWorkflowHandle(workflowId).signal(eventSignal, event as MachineEvent);
    } catch (err) {
      log.warn('could not tell a workflow of a send outcome', { workflowId, event: event.type, error: (err as Error).message });
    } finally {
      outstandingSignals--;
    }
  }
}

function backoff(baseMs: number, attempt: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
