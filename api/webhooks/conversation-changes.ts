/**
 * Conversation events from Meta's `messages`, `smb_message_echoes` and `history` changes: one per
 * message or status, for the conversation of (phone_number_id, customer wa_id).
 */
import type { ConversationEvent, ConversationInput } from '../../machines/conversation';
import { conversationWorkflowId, META_ID, toWaId } from '../../contracts/ids';
import type { HistoryMedia } from '../../store/history-media';
import { MEDIA_PLACEHOLDER } from '../../store/history-media';
import type {
  echoesValueSchema,
  historyMediaSchema,
  historySchema,
  messagesValueSchema,
  WebhookMessage,
  WebhookStatus,
} from './schemas';
import type { z } from 'zod';
import { eventTimeMs } from './time';

/** An event for a conversation workflow, started with `conversation` if it is not running. */
export interface ConversationDelivery {
  workflowId: string;
  conversation: ConversationInput;
  event: ConversationEvent;
}

const DELIVERY_STATUSES = new Set(['sent', 'delivered', 'read', 'failed', 'played']);

export function messagesChanges(
  value: z.infer<typeof messagesValueSchema>,
  receivedAt: number,
  unrouted: string[],
): ConversationDelivery[] {
  const { phone_number_id: phoneNumberId } = value.metadata;
  const out: ConversationDelivery[] = [];
  for (const m of value.messages ?? []) {
    const profileName = value.contacts?.find((c) => c.wa_id === m.from)?.profile?.name;
    const referral = m.referral?.source_type ? m.referral : undefined;
    push(out, unrouted, phoneNumberId, m.from, 'messages', {
      type: 'customer.message',
      message: {
        ...common(m, receivedAt),
        ...(referral
          ? {
              referral: {
                sourceType: referral.source_type!,
                ...(referral.source_id ? { sourceId: referral.source_id } : {}),
                ...(referral.ctwa_clid ? { ctwaClid: referral.ctwa_clid } : {}),
              },
            }
          : {}),
        ...(m.errors?.length ? { errors: m.errors.map((e) => ({ code: e.code, ...(e.title ? { title: e.title } : {}) })) } : {}),
        ...(profileName ? { profileName } : {}),
      },
      at: receivedAt,
    });
  }
  for (const s of value.statuses ?? []) {
    if (!DELIVERY_STATUSES.has(s.status)) {
      unrouted.push(`statuses:unknown_status:${s.status}`);
      continue;
    }
    push(out, unrouted, phoneNumberId, s.recipient_id, 'statuses', {
      type: 'message.status',
      status: status(s, receivedAt),
      at: receivedAt,
    });
  }
  for (const e of value.errors ?? []) unrouted.push(`messages:error:${e.code}`);
  return out;
}

export function echoChanges(
  value: z.infer<typeof echoesValueSchema>,
  receivedAt: number,
  unrouted: string[],
): ConversationDelivery[] {
  const out: ConversationDelivery[] = [];
  const business = toWaId(value.metadata.display_phone_number);
  for (const m of value.message_echoes) {
    // An echo is the business's own message: `from` the business, `to` the customer. Written the
    // other way round (as some SDK fixtures have it), the customer is `from`; never the business itself.
    const reversed = business !== undefined && toWaId(m.to) === business;
    const customer = reversed ? m.from : m.to;
    if (business !== undefined && toWaId(customer ?? '') === business) {
      unrouted.push('smb_message_echoes:business_to_itself');
      continue;
    }
    push(out, unrouted, value.metadata.phone_number_id, customer ?? '', 'smb_message_echoes', {
      type: 'business.echo',
      message: common(m, receivedAt),
      at: receivedAt,
    });
  }
  return out;
}

/** History chunks: each thread is a customer's chat from before onboarding. */
export function historyMessageChanges(
  value: z.infer<typeof historySchema>,
  receivedAt: number,
  unrouted: string[],
): ConversationDelivery[] {
  const { display_phone_number: business, phone_number_id: phoneNumberId } = value.metadata;
  const out: ConversationDelivery[] = [];
  for (const chunk of value.history) {
    for (const thread of chunk.threads ?? []) {
      for (const m of thread.messages) {
        // `to` is set only on messages the business sent (docs/meta.md#history-chunks).
        const fromBusiness = m.to !== undefined || toWaId(m.from ?? '') === toWaId(business);
        push(out, unrouted, phoneNumberId, thread.id, 'history', {
          type: 'history.message',
          message: { ...common(m, receivedAt), fromBusiness },
          at: receivedAt,
        });
      }
    }
  }
  return out;
}

/**
 * A history media follow-up: each message's media, for the placeholder with its id. Not a
 * conversation event: the placeholder has already been (or will be) recorded from its chunk.
 */
export function historyMediaChanges(value: z.infer<typeof historyMediaSchema>, unrouted: string[]): HistoryMedia[] {
  const { phone_number_id: phoneNumberId } = value.metadata;
  if (!META_ID.test(phoneNumberId)) {
    unrouted.push('history:unroutable_number');
    return [];
  }
  const out: HistoryMedia[] = [];
  for (const m of value.messages) {
    if (m.type === MEDIA_PLACEHOLDER) {
      unrouted.push('history:media_placeholder_without_media');
      continue;
    }
    out.push({ phoneNumberId, id: m.id, type: m.type, content: common(m, 0).content });
  }
  return out;
}

function push(
  out: ConversationDelivery[],
  unrouted: string[],
  phoneNumberId: string,
  customer: string,
  field: string,
  event: ConversationEvent,
) {
  const waId = toWaId(customer);
  if (!waId || !META_ID.test(phoneNumberId)) {
    unrouted.push(`${field}:unroutable_number`);
    return;
  }
  out.push({ workflowId: conversationWorkflowId(phoneNumberId, waId), conversation: { phoneNumberId, waId }, event });
}

const ENVELOPE_KEYS = new Set(['id', 'timestamp', 'type', 'from', 'to', 'referral', 'errors']);

/** Id, time (ms; the second it was received when Meta gave none) and type; everything else of the message is its content, kept verbatim. */
function common(m: WebhookMessage, receivedAt: number) {
  const content = Object.fromEntries(Object.entries(m).filter(([k]) => !ENVELOPE_KEYS.has(k)));
  return { id: m.id, timestamp: eventTimeMs(m.timestamp, receivedAt), type: m.type, content };
}

function status(s: WebhookStatus, receivedAt: number) {
  const pricing = s.pricing;
  return {
    wamid: s.id,
    status: s.status as 'sent' | 'delivered' | 'read' | 'failed' | 'played',
    timestamp: eventTimeMs(s.timestamp, receivedAt),
    ...(s.biz_opaque_callback_data ? { clientMessageId: s.biz_opaque_callback_data } : {}),
    ...(pricing?.type !== undefined
      ? {
          pricing: {
            billable: pricing.billable ?? true,
            type: pricing.type,
            ...(pricing.category ? { category: pricing.category } : {}),
          },
        }
      : {}),
    ...(s.errors?.length ? { errors: s.errors.map((e) => ({ code: e.code, ...(e.title ? { title: e.title } : {}) })) } : {}),
  };
}
