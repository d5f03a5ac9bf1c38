/**
 * Conversation events from Meta's `messages`, `smb_message_echoes` and `history` changes: one per
 * message or status, for the conversation of (phone_number_id, customer). The customer is named by
 * whatever the payload carries (phone, business-scoped user id, parent id, username); the key here
 * is provisional (the wa_id, else the BSUID) until ./customer-routing.ts resolves it in the store.
 */
import type { ConversationEvent, ConversationInput } from '../../machines/conversation';
import { BSUID, conversationWorkflowId, META_ID, toWaId } from '../../contracts/ids';
import type { CustomerIds } from '../../store/customers';
import type { HistoryMedia } from '../../store/history-media';
import { MEDIA_PLACEHOLDER } from '../../store/history-media';
import {
  systemNoticeSchema,
  type echoesValueSchema,
  type historyMediaSchema,
  type historySchema,
  type messagesValueSchema,
  type WebhookContact,
  type WebhookMessage,
  type WebhookStatus,
} from './schemas';
import type { z } from 'zod';
import { eventTimeMs } from './time';

/** An event for a conversation workflow, started with `conversation` if it is not running. */
export interface ConversationDelivery {
  workflowId: string;
  conversation: ConversationInput;
  event: ConversationEvent;
  /** Every identifier of the customer the payload carries, to be resolved to the conversation's key. */
  customer: CustomerIds;
  /** The identifiers a `system` message says the customer has now (a new phone number or BSUID). */
  changedTo?: CustomerIds;
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
    const contact = contactOf(value.contacts, m.from, m.from_user_id);
    const profileName = contact?.profile?.name;
    const referral = m.referral?.source_type ? m.referral : undefined;
    const customer = customerIds(m.from, m.from_user_id, m.from_parent_user_id, contact);
    const delivery = push(out, unrouted, phoneNumberId, customer, 'messages', {
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
    const changedTo = identifierChange(m);
    if (delivery && changedTo) delivery.changedTo = changedTo;
  }
  for (const s of value.statuses ?? []) {
    if (!DELIVERY_STATUSES.has(s.status)) {
      unrouted.push(`statuses:unknown_status:${s.status}`);
      continue;
    }
    const contact = contactOf(value.contacts, s.recipient_id, s.recipient_user_id);
    const customer = customerIds(s.recipient_id, s.recipient_user_id, s.recipient_parent_user_id, contact);
    push(out, unrouted, phoneNumberId, customer, 'statuses', {
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
    const reversed = business !== undefined && toWaId(m.to ?? '') === business;
    const phone = reversed ? m.from : m.to;
    if (business !== undefined && toWaId(phone ?? '') === business) {
      unrouted.push('smb_message_echoes:business_to_itself');
      continue;
    }
    const contact = contactOf(value.contacts, phone, m.to_user_id);
    const customer = customerIds(phone, m.to_user_id, m.to_parent_user_id, contact);
    push(out, unrouted, value.metadata.phone_number_id, customer, 'smb_message_echoes', {
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
        // A thread is named by the customer's phone number, or by their BSUID when it is hidden.
        const customer = BSUID.test(thread.id)
          ? customerIds(undefined, thread.id, fromBusiness ? m.to_parent_user_id : m.from_parent_user_id)
          : customerIds(thread.id, fromBusiness ? m.to_user_id : m.from_user_id, undefined);
        push(out, unrouted, phoneNumberId, customer, 'history', {
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

/** The `contacts[]` entry of a customer: the one with their phone number or user id (the only one otherwise). */
function contactOf(contacts: WebhookContact[] | undefined, phone: string | undefined, userId: string | undefined) {
  if (!contacts?.length) return undefined;
  return (
    contacts.find((c) => (phone && c.wa_id === phone) || (userId && c.user_id === userId)) ??
    (contacts.length === 1 ? contacts[0] : undefined)
  );
}

/** The customer's identifiers, each kept only when well formed (an empty phone field is no phone). */
export function customerIds(
  phone: string | undefined,
  userId: string | undefined,
  parentUserId: string | undefined,
  contact?: WebhookContact,
): CustomerIds {
  const waId = toWaId(phone ?? '') ?? toWaId(contact?.wa_id ?? '');
  const user = [userId, contact?.user_id].find((id) => id !== undefined && BSUID.test(id));
  const parent = [parentUserId, contact?.parent_user_id].find((id) => id !== undefined && BSUID.test(id));
  const username = contact?.profile?.username;
  return {
    ...(waId ? { waId } : {}),
    ...(user ? { userId: user } : {}),
    ...(parent ? { parentUserId: parent } : {}),
    ...(username && !username.includes('\u0000') && username.length <= 256 ? { username } : {}),
  };
}

/** Meta's `system` message types that tell a customer's new identifier; the message names them by the old one. */
const IDENTIFIER_CHANGES = new Set(['user_changed_number', 'user_changed_user_id']);

/** The identifiers the customer has now, when `m` is Meta's notice that they changed number or BSUID. */
function identifierChange(m: WebhookMessage): CustomerIds | undefined {
  const notice = m.type === 'system' ? systemNoticeSchema.safeParse(m.system) : undefined;
  if (!notice?.success || !IDENTIFIER_CHANGES.has(notice.data.type)) return undefined;
  const { wa_id, user_id, parent_user_id } = notice.data;
  const ids = customerIds(wa_id, user_id, parent_user_id);
  return (ids.waId ?? ids.userId ?? ids.parentUserId) ? ids : undefined;
}

/** Provisional key: the wa_id, else the BSUID, else the parent BSUID (./customer-routing.ts resolves it). */
const provisionalKey = (c: CustomerIds) => c.waId ?? c.userId ?? c.parentUserId;

function push(
  out: ConversationDelivery[],
  unrouted: string[],
  phoneNumberId: string,
  customer: CustomerIds,
  field: string,
  event: ConversationEvent,
) {
  const waId = provisionalKey(customer);
  if (!waId || !META_ID.test(phoneNumberId)) {
    unrouted.push(`${field}:unroutable_number`);
    return undefined;
  }
  const delivery: ConversationDelivery = {
    workflowId: conversationWorkflowId(phoneNumberId, waId),
    conversation: { phoneNumberId, waId },
    event,
    customer,
  };
  out.push(delivery);
  return delivery;
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
