import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { conversationWorkflowId } from '../contracts/ids';
import { eventSignal, type MachineEvent } from '../contracts/machine-api';
import type {
  SendAnswer,
  SendBatchInput,
  SendBatchResult,
  SenderActivities,
  SenderCounts,
  SendMessageInput,
  SendOutcome,
} from '../contracts/sender';
import { DEFAULT_CONVERSATION_SETTINGS, type ConversationEvent, type OutboundContent } from '../machines/conversation';
import { META_API_ERROR, type MetaErrorDetails } from '../machines/interpreter-contract';
import { isSendThrottlingCode, NUMBER_RATE_LIMIT_CODE, RETRYABLE_META_CODES, isSendingBlockCode } from '../machines/meta-codes';
import type { OnboardingEvent } from '../machines/onboarding';
import { sends } from '../observability/metrics';
import type { MessageStore } from '../store/message-store';
import type { ClaimedSend, QueueHead } from '../store/send-queue';
import { recipientOf, type Recipient } from './customer-address';
import { GraphClient } from './meta/graph-client';
import { numberStateLookup, type CredentialsLookup, type NumberState } from './number-state';
import { unsealToken } from './token-vault';

export interface SenderActivityDeps {
  config: Config;
  store: MessageStore;
  client: Client;
  log: Logger;
  credentials: CredentialsLookup;
  /** TEST HARNESS ONLY (./index.ts): ignore the pace (a slot's next request leaves as soon as Meta answered). */
  testOnlyUnpacedSends?: boolean;
}

/** Sends Meta answered "not taken" for (5xx, transient codes) before one is failed. */
const MAX_ATTEMPTS = 10;
/** Queue heads looked at for the next send (one per customer, in order). */
const SCAN = 500;
/** How often a batch re-reads the number's state and the queue's head, and writes Meta's acceptances (ms). */
const REFRESH_MS = 1_000;
/** How long a batch keeps looking at an empty queue (every LINGER_POLL_MS) before it sleeps, ms. */
const LINGER_MS = 2_000;
const LINGER_POLL_MS = 100;
/** How long before its slot is ready a send is claimed (ms): at most this long claimed and not yet sent. */
const CLAIM_AHEAD_MS = 100;
/** Acceptances written at once at most. */
const ACCEPTED_FLUSH = 20;

/**
 * The sender's activities. `sendBatch` sends from the number's queue (the message store) at the
 * pace for up to `batchMs`:
 *
 * - Pace: `messagesPerSecond` slots; a slot's next request leaves no sooner than a second after
 *   Meta answered its previous one (`answers` carries the last second across batches). Meta gets a
 *   request before it answers, so each slot puts at most one request in any second of Meta's
 *   clock, and all slots together at most the limit.
 * - Order: one send in flight per customer, each customer's sends in the order they were queued;
 *   a send Meta did not take goes back to its place, and its customer waits for it.
 * - Never twice: a send is claimed (`unconfirmed`) in the store just before its request leaves and
 *   is never taken again; only an answer in which Meta says it did not take it puts it back. A
 *   batch cut short (worker killed) leaves its sends in flight `unconfirmed`, settled by their
 *   status webhooks, and its retry takes only what was never claimed.
 * - Held: while the number cannot send, its sends are held with the card's reason, and failed
 *   past the hold limit; free-form sends whose window closed are failed, never sent.
 *
 * Conversations are told only what their machines act on: a refusal (`send.failed`), and Meta's
 * acceptance where the conversation waits for it (a free entry point's first reply).
 */
export function createSenderActivities({
  config,
  store,
  client,
  log,
  credentials,
  testOnlyUnpacedSends = false,
}: SenderActivityDeps) {
  const graph = new GraphClient({
    baseUrl: config.META_GRAPH_BASE_URL,
    apiVersion: config.META_GRAPH_API_VERSION,
    appId: config.META_APP_ID,
    appSecret: config.META_APP_SECRET,
  });
  const numberState = numberStateLookup(store, credentials);
  const windowMs = DEFAULT_CONVERSATION_SETTINGS.customerServiceWindowMs;

  async function tell(workflowId: string, event: ConversationEvent | OnboardingEvent) {
    try {
      await client.workflow.getHandle(workflowId).signal(eventSignal, event as MachineEvent);
    } catch (err) {
      log.warn({ workflowId, event: event.type, err: (err as Error).message }, 'could not tell a workflow of a send outcome');
    }
  }

  /** One request to Meta, and what its answer means for the send. */
  async function post(
    phoneNumberId: string,
    token: string,
    send: Pick<SendMessageInput, 'waId' | 'clientMessageId' | 'message'>,
  ) {
    let outcome: SendOutcome;
    try {
      const address = await recipientOf(store, phoneNumberId, send.waId).catch((err: unknown) => {
        throw new NotSent(`the customer's address could not be read: ${(err as Error).message}`);
      });
      const { messageId } = await graph.sendMessage(phoneNumberId, token, metaMessage(send, address));
      outcome = { outcome: 'accepted', wamid: messageId };
    } catch (err) {
      outcome = outcomeOfError(err, log, phoneNumberId, send.clientMessageId);
    }
    sends.inc({ outcome: outcome.outcome });
    return { ...outcome, answeredAt: Date.now() } as SendAnswer & { answeredAt: number };
  }

  async function sendBatch(input: SendBatchInput): Promise<SendBatchResult> {
    const { phoneNumberId } = input;
    const context = Context.current();
    const counts: SenderCounts = { accepted: 0, refused: 0, unconfirmed: 0, throttled: 0, retried: 0, expired: 0 };
    let { pausedUntil, throttleStreak } = input;
    const slots = new Slots(input.messagesPerSecond, input.answers);
    const busy = new Set<string>();
    const customerPausedUntil = new Map<string, number>();
    const inFlight = new Set<Promise<void>>();
    let stoppedBy: number | undefined;
    const deadline = Date.now() + input.batchMs;

    const result = async (next: SendBatchResult['next'], extra: Partial<SendBatchResult> = {}) => ({
      answers: slots.answersOfLastSecond(Date.now()),
      pausedUntil,
      throttleStreak,
      counts,
      queued: await store.queue.depth(phoneNumberId),
      next,
      ...extra,
    });

    let state = await numberState(phoneNumberId);
    if (!state.canSend) return holdAll(state);
    await store.queue.release(phoneNumberId);
    let token = unsealToken(state.sealedToken!, config.TOKEN_SEALING_KEY);

    // Meta's acceptances, written to the store together (until then the sends read `unconfirmed`).
    let acceptedAnswers: { id: string; wamid: string; at: number }[] = [];
    const flushAccepted = async () => {
      const answers = acceptedAnswers;
      acceptedAnswers = [];
      await store.queue.accepted(phoneNumberId, answers);
      await store.applyPendingStatuses(
        phoneNumberId,
        answers.map((a) => a.wamid),
      );
    };

    let heads: QueueHead[] = [];
    let refreshedAt = 0;
    // The queue is looked at for LINGER_MS after each claim before sleeping; a batch that found
    // nothing to claim (a wake with nothing runnable, the sleep's safety net) sleeps at once.
    let lastClaimAt = 0;
    // The queue's head is read again when asked for, or once half of what was read has gone: sends
    // added since come after it (queue order), and one put back in its place asks for a read.
    const refresh = async (readHeads: boolean) => {
      const now = Date.now();
      refreshedAt = now;
      counts.expired! += (await store.queue.expire(phoneNumberId, { now, windowMs })).length;
      if (readHeads || heads.length < SCAN / 2) heads = await store.queue.peek(phoneNumberId, SCAN);
      state = await numberState(phoneNumberId);
      if (state.canSend) token = unsealToken(state.sealedToken!, config.TOKEN_SEALING_KEY);
    };

    // The periodic refresh runs beside the sends (they go on from the heads read before); one asked
    // for (`refreshedAt = 0`: a send back in its place, or nothing runnable) is waited for.
    let background: Promise<void> | undefined;
    let backgroundError: unknown;
    const refreshAll = async (readHeads: boolean) => {
      await flushAccepted();
      await refresh(readHeads);
    };

    while (Date.now() < deadline && stoppedBy === undefined && !context.cancellationSignal.aborted) {
      context.heartbeat();
      if (refreshedAt === 0) {
        await background;
        await refreshAll(true);
      } else if (!background && Date.now() - refreshedAt >= REFRESH_MS) {
        background = refreshAll(false).then(
          () => void (background = undefined),
          (err: unknown) => void ((backgroundError = err), (background = undefined)),
        );
      }
      if (backgroundError !== undefined) throw backgroundError;
      if (!state.canSend) break;
      if (Date.now() < pausedUntil) {
        await context.sleep(Math.min(pausedUntil, deadline) - Date.now());
        continue;
      }
      const slot = slots.free();
      if (slot === undefined) {
        await Promise.race(inFlight);
        continue;
      }
      const head = nextRunnable(heads, busy, customerPausedUntil, Date.now());
      if (!head) {
        if (inFlight.size > 0) await Promise.race([...inFlight, context.sleep(REFRESH_MS)]);
        else if (Date.now() - lastClaimAt < LINGER_MS) {
          // A queue fed slower than the pace runs empty between sends: look again shortly rather
          // than sleep and be woken (a signal, an activity and their workflow tasks) every few sends.
          await context.sleep(LINGER_POLL_MS);
          heads = await store.queue.peek(phoneNumberId, SCAN);
        } else if (Date.now() - refreshedAt > 50) {
          refreshedAt = 0; // look at the queue again before sleeping
        } else break;
        continue;
      }
      // Claimed a moment before the slot is ready (sendOne waits for it): the claim's round trip
      // is not added to the slot's second.
      const wait = testOnlyUnpacedSends ? 0 : slots.readyAt(slot) - Date.now();
      if (wait > CLAIM_AHEAD_MS) {
        await context.sleep(wait - CLAIM_AHEAD_MS);
        continue; // the queue or the number may have changed meanwhile: choose again
      }
      heads.splice(heads.indexOf(head), 1);
      busy.add(head.waId);
      slots.take(slot);
      const claimed = await store.queue.claim(phoneNumberId, head.id, Date.now());
      lastClaimAt = Date.now();
      if (!claimed) {
        busy.delete(head.waId);
        slots.giveBack(slot);
        continue;
      }
      const sending: Promise<void> = sendOne(claimed, slot).finally(() => {
        busy.delete(claimed.waId);
        inFlight.delete(sending);
      });
      inFlight.add(sending);
    }
    await Promise.all(inFlight);
    await background;
    await flushAccepted();

    if (stoppedBy !== undefined || !state.canSend) return holdAll(await numberState(phoneNumberId));
    if (Date.now() < deadline && !context.cancellationSignal.aborted) {
      // Nothing runnable: sleep, unless a send came in meanwhile.
      const sleep = await store.queue.sleep(phoneNumberId, Date.now());
      if (!sleep.runnable) return result('sleep', sleep.wakeAt !== undefined ? { wakeAt: sleep.wakeAt } : {});
    }
    return result('continue');

    async function sendOne(claimed: ClaimedSend, slot: number): Promise<void> {
      // A timer may fire a millisecond early: the slot's second is checked again.
      for (
        let early = slots.readyAt(slot) - Date.now();
        !testOnlyUnpacedSends && early > 0;
        early = slots.readyAt(slot) - Date.now()
      ) {
        await new Promise((r) => setTimeout(r, early));
      }
      const answer = await post(phoneNumberId, token, claimed);
      slots.answered(slot, answer.answeredAt);
      const at = answer.answeredAt;
      const retry = async (notBefore: number) => {
        const attempts = claimed.attempts + 1;
        if (attempts >= MAX_ATTEMPTS) {
          return refuse(answer.outcome === 'retry' ? answer.code : undefined, `gave up after ${attempts} attempts`);
        }
        counts.retried++;
        customerPausedUntil.set(claimed.waId, notBefore);
        await store.queue.requeue(phoneNumberId, claimed.id, { at, notBefore, attempts });
        refreshedAt = 0; // its place in the queue is back at the head
      };
      const refuse = async (code: number | undefined, title: string) => {
        counts.refused++;
        await store.applyStatus({
          phoneNumberId,
          waId: claimed.waId,
          clientMessageId: claimed.clientMessageId,
          status: 'failed',
          timestamp: at,
          ...(code !== undefined ? { errorCode: code } : {}),
          errorTitle: title,
        });
        await tell(conversationWorkflowId(phoneNumberId, claimed.waId), {
          type: 'send.failed',
          clientMessageId: claimed.clientMessageId,
          title,
          at,
          ...(code !== undefined ? { code } : {}),
        });
        if (isSendingBlockCode(code)) {
          stoppedBy = code;
          await store.queue.stop(phoneNumberId, code, at);
          if (state.onboardingWorkflowId) await tell(state.onboardingWorkflowId, { type: 'send.refused', code, at });
        }
      };
      switch (answer.outcome) {
        case 'accepted':
          counts.accepted++;
          throttleStreak = 0;
          customerPausedUntil.delete(claimed.waId);
          acceptedAnswers.push({ id: claimed.id, wamid: answer.wamid, at });
          if (acceptedAnswers.length >= ACCEPTED_FLUSH) await flushAccepted();
          if (claimed.tellAccepted) {
            await tell(conversationWorkflowId(phoneNumberId, claimed.waId), {
              type: 'send.accepted',
              clientMessageId: claimed.clientMessageId,
              wamid: answer.wamid,
              at,
            });
          }
          return;
        case 'throttled':
          counts.throttled++;
          if (answer.code === NUMBER_RATE_LIMIT_CODE) {
            throttleStreak++;
            pausedUntil = Math.max(pausedUntil, at + backoff(1_000, throttleStreak, 60_000));
            customerPausedUntil.set(claimed.waId, 0);
            await store.queue.requeue(phoneNumberId, claimed.id, { at, notBefore: 0, attempts: claimed.attempts });
            refreshedAt = 0;
            return;
          }
          return retry(at + backoff(6_000, claimed.attempts + 1, 300_000));
        case 'retry':
          return retry(at + backoff(1_000, claimed.attempts + 1, 60_000));
        case 'refused':
          return refuse(answer.code, answer.title);
        case 'unconfirmed':
          counts.unconfirmed++; // already `unconfirmed` in the store: a status webhook settles it
          return;
      }
    }

    /** The number cannot send: its sends wait with the reason, and what must not wait longer fails. */
    async function holdAll(blocked: NumberState): Promise<SendBatchResult> {
      const now = Date.now();
      const reason = blocked.reason ?? 'status_unknown';
      await store.queue.hold(phoneNumberId, reason, blocked.remedy);
      const rule = { now, windowMs, holdLimitMs: config.SEND_HOLD_LIMIT_MS };
      counts.expired! += (await store.queue.expire(phoneNumberId, rule)).length;
      const nextExpiry = await store.queue.nextExpiry(phoneNumberId, rule);
      const wakeAt = Math.min(nextExpiry ?? Infinity, now + config.SEND_HELD_RECHECK_MS);
      return result('sleep', { wakeAt, held: { reason, ...(blocked.remedy !== undefined ? { remedy: blocked.remedy } : {}) } });
    }
  }

  /**
   * A send of a sender started before the queue moved to the store: claimed in the store first, so
   * that it and a new sender never both send it.
   */
  async function sendMessage(input: SendMessageInput): Promise<SendAnswer> {
    const wait = testOnlyUnpacedSends ? 0 : (input.notBefore ?? 0) - Date.now();
    if (wait > 0) await Context.current().sleep(wait);
    const claimed = await store.queue.claim(input.phoneNumberId, `client:${input.clientMessageId}`, Date.now());
    if (!claimed)
      return { outcome: 'unconfirmed', reason: 'already handed to Meta by the number’s sender', answeredAt: Date.now() };
    const state = await numberState(input.phoneNumberId);
    if (!state.sealedToken) return { outcome: 'refused', title: `no onboarding holds phone number id ${input.phoneNumberId}` };
    const answer = await post(input.phoneNumberId, unsealToken(state.sealedToken, config.TOKEN_SEALING_KEY), input);
    const onboarding = state.onboardingWorkflowId ? { onboardingWorkflowId: state.onboardingWorkflowId } : {};
    if (answer.outcome === 'retry' || answer.outcome === 'throttled') {
      await store.queue.requeue(input.phoneNumberId, claimed.id, {
        at: answer.answeredAt,
        notBefore: 0,
        attempts: claimed.attempts,
      });
    }
    return answer.outcome === 'accepted' || answer.outcome === 'refused' ? { ...answer, ...onboarding } : answer;
  }

  return { sendBatch, sendMessage } satisfies SenderActivities;
}

/** The first queued send whose customer is free and ready, each customer's sends in order. */
function nextRunnable(
  heads: QueueHead[],
  busy: Set<string>,
  customerPausedUntil: Map<string, number>,
  now: number,
): QueueHead | undefined {
  const seen = new Set<string>();
  for (const head of heads) {
    if (seen.has(head.waId)) continue;
    seen.add(head.waId); // later sends to this customer wait behind this one
    if (busy.has(head.waId) || head.notBefore > now || (customerPausedUntil.get(head.waId) ?? 0) > now) continue;
    return head;
  }
  return undefined;
}

/**
 * The number's `n` slots: each holds its last answer's time, and its next request may leave a
 * second after it. Answers of the previous batch come in as the slots' starting points.
 */
class Slots {
  private readonly answeredAt: number[];
  private readonly taken: boolean[];

  constructor(n: number, answers: number[]) {
    const recent = [...answers].sort((a, b) => a - b).slice(-n);
    this.answeredAt = Array.from({ length: n }, (_, i) => recent[i] ?? 0);
    this.taken = Array.from({ length: n }, () => false);
  }

  /** The free slot that is ready first, if any is free. */
  free(): number | undefined {
    let best: number | undefined;
    for (let i = 0; i < this.taken.length; i++) {
      if (!this.taken[i] && (best === undefined || this.answeredAt[i]! < this.answeredAt[best]!)) best = i;
    }
    return best;
  }

  readyAt(slot: number): number {
    return this.answeredAt[slot]! + 1000;
  }

  take(slot: number): void {
    this.taken[slot] = true;
  }

  giveBack(slot: number): void {
    this.taken[slot] = false;
  }

  answered(slot: number, at: number): void {
    this.answeredAt[slot] = at;
    this.taken[slot] = false;
  }

  answersOfLastSecond(now: number): number[] {
    return this.answeredAt.filter((at) => at > now - 1000);
  }
}

/** What a failed request to Meta means for the send. */
function outcomeOfError(err: unknown, log: Logger, phoneNumberId: string, clientMessageId: string): SendOutcome {
  if (err instanceof NotSent) return { outcome: 'retry', reason: err.message };
  if (!(err instanceof ApplicationFailure)) {
    // Not an answer from Meta: the request may have left.
    return { outcome: 'unconfirmed', reason: (err as Error).message };
  }
  if (err.type === META_API_ERROR) {
    const { code, detail } = err.details?.[0] as MetaErrorDetails;
    if (isSendThrottlingCode(code)) return { outcome: 'throttled', code };
    if (RETRYABLE_META_CODES.includes(code) || (!err.nonRetryable && code >= 500))
      return { outcome: 'retry', code, reason: err.message };
    return { outcome: 'refused', code, title: detail ?? err.message };
  }
  if (err.type === 'MetaUnreachable') {
    const { requestSent } = (err.details?.[0] ?? { requestSent: true }) as { requestSent: boolean };
    if (!requestSent) return { outcome: 'retry', reason: err.message };
    log.warn({ phoneNumberId, clientMessageId }, 'send unconfirmed: the request may have reached Meta');
    return { outcome: 'unconfirmed', reason: err.message };
  }
  return { outcome: 'refused', title: err.message };
}

function backoff(baseMs: number, attempt: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

/** Failed before the request was made: Meta never saw it. */
class NotSent extends Error {}

/**
 * Meta's `/messages` body for an outbound message (docs/meta.md#sending), to the customer's phone
 * number (`to`) or, when it is not known, their business-scoped user id (`recipient`).
 */
export function metaMessage(
  { waId, clientMessageId, message }: Pick<SendMessageInput, 'waId' | 'clientMessageId' | 'message'>,
  address: Recipient = { to: waId },
) {
  return { ...address, biz_opaque_callback_data: clientMessageId, ...metaContent(message) };
}

function metaContent(message: OutboundContent): { type: string; [key: string]: unknown } {
  switch (message.type) {
    case 'text':
      return { type: 'text', text: { body: message.text.body, preview_url: message.text.previewUrl ?? false } };
    case 'template': {
      const { name, language, components } = message.template;
      return { type: 'template', template: { name, language: { code: language }, ...(components ? { components } : {}) } };
    }
    case 'reaction':
      return { type: 'reaction', reaction: { message_id: message.reaction.messageId, emoji: message.reaction.emoji } };
    default:
      return message as { type: string };
  }
}
