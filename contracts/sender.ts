/**
 * The per-number sender's surface (workflows/sender.ts): how it is woken, what its `sendBatch`
 * activity takes and answers, and how to read it. Shared by the workflow, activities and API.
 * `enqueue`, `SendRequest` and `sendMessage` are those of senders started before the send queue
 * moved to the message store (workflows/sender-legacy.ts), kept while their histories run.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { OutboundContent } from '../machines/conversation';
import type { SendThrottlingCode } from '../machines/meta-codes';

export interface SendRequest {
  /** The conversation told of the outcome (`send.accepted`, `send.failed`, `send.unconfirmed`). */
  conversationWorkflowId: string;
  clientMessageId: string;
  waId: string;
  message: OutboundContent;
}

export interface SendMessageInput {
  phoneNumberId: string;
  waId: string;
  clientMessageId: string;
  message: OutboundContent;
  /** Not to reach Meta before this (epoch ms): the activity waits for it, so the sender can start it early. */
  notBefore?: number;
}

/**
 * What one send to Meta came to. Only `retry` and `throttled` are sent again: Meta answered that
 * it did not take the message. Anything that may have reached Meta is `unconfirmed`, never resent.
 */
export type SendOutcome =
  | { outcome: 'accepted'; wamid: string; onboardingWorkflowId?: string }
  /** 130429 (the number's 20/s) or 131056 (too many to this customer). */
  | { outcome: 'throttled'; code: SendThrottlingCode }
  /** Meta's transient codes, or no connection at all: the request was not taken. */
  | { outcome: 'retry'; code?: number; reason: string }
  | { outcome: 'refused'; code?: number; title: string; onboardingWorkflowId?: string }
  | { outcome: 'unconfirmed'; reason: string };

/** The outcome, and when Meta's answer came (the worker's clock, ms): Meta received the request before that. */
export type SendAnswer = SendOutcome & { answeredAt?: number };

export interface SenderCounts {
  accepted: number;
  refused: number;
  unconfirmed: number;
  throttled: number;
  retried: number;
  /** Sends failed without reaching Meta: window closed while queued, or held past the hold limit. */
  expired?: number;
}

export interface SenderView {
  phoneNumberId: string;
  /** Sends waiting in the number's queue (queued or held) when the last batch ended. */
  queued: number;
  inFlight: number;
  /** 130429 backoff: no send starts before this (ISO), if set. */
  pausedUntil?: string;
  /** Why the number's sends are held, while they are. */
  held?: { reason: string; remedy?: string };
  counts: SenderCounts;
  /** Batches run (one activity each), over the sender's whole life. */
  batches?: number;
}

/** What one batch needs to keep the pace across batches. */
export interface SenderPace {
  /** When Meta answered the sends of the last second (epoch ms, worker clock): each holds a slot a second longer. */
  answers: number[];
  /** 130429 backoff: no send before this (epoch ms). */
  pausedUntil: number;
  throttleStreak: number;
}

export interface SendBatchInput extends SenderPace {
  phoneNumberId: string;
  messagesPerSecond: number;
  /** How long the batch keeps taking new sends (ms); those in flight then finish. */
  batchMs: number;
}

export interface SendBatchResult extends SenderPace {
  counts: SenderCounts;
  queued: number;
  /** `continue`: more to send now; `sleep`: until woken, or `wakeAt` (epoch ms) at the latest. */
  next: 'continue' | 'sleep';
  wakeAt?: number;
  held?: { reason: string; remedy?: string };
}

/** The sender's activities (activities/sender.ts; `sendMessage` for legacy senders). */
export interface SenderActivities {
  sendBatch(input: SendBatchInput): Promise<SendBatchResult>;
  sendMessage(input: SendMessageInput): Promise<SendAnswer>;
}

/** Wakes a sleeping sender: its queue got a send, or its number can send again. */
export const wakeSignal = defineSignal('wake');
export const enqueueSignal = defineSignal<[SendRequest]>('enqueue');
export const senderQuery = defineQuery<SenderView>('sender');
