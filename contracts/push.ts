/**
 * What coexist pushes to the backend about conversations (opt-in, BACKEND_PUSH_EVENTS): each kind,
 * and the body of each callback. Sent signed to BACKEND_CALLBACK_URL by activities/backend-push.ts,
 * in order per conversation, retried until accepted, with a delivery id that never changes.
 */
import type { MessageRecord, MessageStatusUpdate } from '../machines/conversation';

export const PUSH_KINDS = ['message.received', 'message.echo', 'message.status', 'window.changed'] as const;
export type PushKind = (typeof PUSH_KINDS)[number];

/** The conversation a push is about: the same key the API reads it by. */
export interface PushConversation {
  phoneNumberId: string;
  waId: string;
  /** The conversation workflow's id, `conversation:<phone_number_id>:<wa_id>`. */
  conversationId: string;
}

export type PushPayload =
  | { kind: 'message.received' | 'message.echo'; message: MessageRecord }
  | { kind: 'message.status'; status: MessageStatusUpdate }
  | {
      kind: 'window.changed';
      customerServiceWindow: { status: 'open'; expiresAt: number } | { status: 'closed'; closedBy: 'meta'; closedAt: number };
    };

/** The body POSTed: the payload, its conversation, and the delivery id (also in `X-Coexist-Delivery-Id`). */
export type PushBody = PushPayload & PushConversation & { deliveryId: string; occurredAt: number };
