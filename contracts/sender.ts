/**
 * The per-number sender's surface (workflows/sender.ts): what conversations hand it, what its
 * `sendMessage` activity answers, and how to read it. Shared by the workflow, activities and API.
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

export interface SenderView {
  phoneNumberId: string;
  queued: number;
  inFlight: number;
  /** 130429 backoff: no send starts before this (ISO), if set. */
  pausedUntil?: string;
  counts: { accepted: number; refused: number; unconfirmed: number; throttled: number; retried: number };
}

/** The sender's one activity: a send to Meta (activities/conversations.ts). */
export interface SenderActivities {
  sendMessage(input: SendMessageInput): Promise<SendAnswer>;
}

export const enqueueSignal = defineSignal<[SendRequest]>('enqueue');
export const senderQuery = defineQuery<SenderView>('sender');
