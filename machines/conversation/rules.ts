/**
 * Tables of the conversation machine: what coexist shows for messages Coexistence cannot carry
 * (the help article's "Sync limitations after connecting"; docs/meta.md#webhooks) and what a
 * platform send is expected to cost (docs/meta.md#pricing). Pure data and lookups: no I/O, no clock.
 */
import { MESSAGE_REFUSALS, MESSAGE_TYPE_UNKNOWN_CODE, MESSAGE_UNAVAILABLE_CODE, type MessageRefusalReason } from '../meta-codes';
import type { OutboundContent } from './events';
import type { MessageNotice, PricingClass } from './messages';

// --- refusals of one message ----------------------------------------------------------------------

/** What the business can do when Meta refuses one message (the number can still send). */
export const MESSAGE_REFUSAL_REMEDIES = {
  bsuid_recipient_not_supported:
    "Meta doesn't deliver this message to a username (business-scoped user id): send it to the customer's phone " +
    'number instead. Some authentication templates (one-tap, zero-tap, copy code) always need a phone number; ' +
    'if the customer hides theirs, ask them to share it or use another way to verify them.',
} as const satisfies Record<MessageRefusalReason, string>;

/** A refusal of one message named by Meta's code, with its remedy; undefined for any other code. */
export function messageRefusal(code: number | undefined): { reason: MessageRefusalReason; remedy: string } | undefined {
  const refusal = MESSAGE_REFUSALS.find((r) => r.code === code);
  return refusal && { reason: refusal.reason, remedy: MESSAGE_REFUSAL_REMEDIES[refusal.reason] };
}

// --- unsupported messages -------------------------------------------------------------------------

/** The gaps Meta sets on every Coexistence connection ("Additional gaps that Meta defines"). */
export type CoexistenceGap = 'group_chats' | 'broadcast_lists' | 'disappearing_messages' | 'calls' | 'business_tools';

export type UnsupportedNoticeCode = 'message_unavailable' | CoexistenceGap | 'unsupported_message';

export const UNSUPPORTED_NOTICES = {
  message_unavailable:
    "This message isn't available through the API yet. It is expected on a customer's first message (notably right " +
    'after tapping a Click-to-WhatsApp ad) and from devices Coexistence does not support; it usually clears in ' +
    'seconds. Open the WhatsApp Business app to see it.',
  group_chats: "Group chats. Meta doesn't sync groups to the API: groups you have in the app won't appear in Mumble.",
  broadcast_lists:
    "Broadcast Lists. After connecting, the app won't allow creating new Broadcast Lists, and existing lists are " +
    'read-only. Sending to many people goes through Mumble campaigns.',
  disappearing_messages:
    'Disappearing messages, View Once, Live Location. Meta disables these features in 1:1 conversations after ' +
    'connecting; open the WhatsApp Business app to see this message.',
  calls: "Voice and video calls. These stay in the WhatsApp Business app only and aren't available through the API.",
  business_tools:
    'In-app business tools. Catalog, orders, statuses, greeting and away messages, quick replies and labels stay in ' +
    "the WhatsApp Business app but aren't accessible from the API side.",
  unsupported_message:
    "WhatsApp doesn't pass this kind of message to the API. Open the WhatsApp Business app to see it, or ask the " +
    'customer to send it as text, an image, a video, an audio message or a document.',
} as const satisfies Record<UnsupportedNoticeCode, string>;

/**
 * Meta's `unsupported.type` (lower case) → the gap it falls in. Meta publishes no list of these
 * values: the keys are the ones seen in integrators' payloads and the app's feature names (inferred, not documented by Meta).
 */
export const UNSUPPORTED_KINDS: Readonly<Record<string, CoexistenceGap>> = {
  group: 'group_chats',
  group_chat: 'group_chats',
  group_invite: 'group_chats',
  community: 'group_chats',
  broadcast: 'broadcast_lists',
  broadcast_list: 'broadcast_lists',
  disappearing: 'disappearing_messages',
  disappearing_message: 'disappearing_messages',
  ephemeral: 'disappearing_messages',
  keep_in_chat: 'disappearing_messages',
  view_once: 'disappearing_messages',
  view_once_image: 'disappearing_messages',
  view_once_video: 'disappearing_messages',
  view_once_audio: 'disappearing_messages',
  live_location: 'disappearing_messages',
  call: 'calls',
  voice_call: 'calls',
  video_call: 'calls',
  missed_call: 'calls',
  call_log: 'calls',
  catalog: 'business_tools',
  product: 'business_tools',
  product_list: 'business_tools',
  order: 'business_tools',
  status: 'business_tools',
  status_reply: 'business_tools',
  quick_reply: 'business_tools',
  label: 'business_tools',
  greeting: 'business_tools',
  away: 'business_tools',
};

export function unsupportedNotice(code: UnsupportedNoticeCode): MessageNotice {
  return { code, message: UNSUPPORTED_NOTICES[code] };
}

/** What the webhook says of a message, enough to classify it. */
export interface ClassifiableMessage {
  type: string;
  content?: Record<string, unknown>;
  errors?: { code: number; title?: string }[];
}

/**
 * The notice for a message coexist cannot show in full, or undefined for an ordinary one. Never an
 * error: Coexistence gaps are expected behaviour, classified and shown with the article's words.
 */
export function classifyInbound(message: ClassifiableMessage): MessageNotice | undefined {
  const codes = (message.errors ?? []).map((e) => e.code);
  if (codes.includes(MESSAGE_UNAVAILABLE_CODE)) return unsupportedNotice('message_unavailable');
  const unsupported = message.type === 'unsupported' || message.type === 'unknown' || codes.includes(MESSAGE_TYPE_UNKNOWN_CODE);
  if (!unsupported) return undefined;
  const kind = unsupportedKindOf(message.content);
  return unsupportedNotice((kind !== undefined ? UNSUPPORTED_KINDS[kind] : undefined) ?? 'unsupported_message');
}

/** `unsupported.type` as the webhook adapter keeps it in `content` (`{ unsupported: { type } }`). */
function unsupportedKindOf(content: Record<string, unknown> | undefined): string | undefined {
  const unsupported = content?.unsupported as { type?: unknown } | undefined;
  return typeof unsupported?.type === 'string' ? unsupported.type.toLowerCase() : undefined;
}

// --- what may be sent ------------------------------------------------------------------------------

/**
 * Whether a platform send may go out: templates always; free-form only while the customer service
 * window is open (the free-entry-point window never decides). The conversation machine's `send`
 * guard and the send API's decision from the store both ask this.
 */
export function maySend(message: Pick<OutboundContent, 'type'>, customerServiceWindowOpen: boolean): boolean {
  return message.type === 'template' || customerServiceWindowOpen;
}

// --- pricing ----------------------------------------------------------------------------------------

/** Free to the business whatever the windows: written in the app (dual pricing), or by the customer. */
export const APP_ECHO_PRICING: PricingClass = { billable: false, type: 'business_app', basis: 'predicted' };
export const INBOUND_PRICING: PricingClass = { billable: false, type: 'inbound', basis: 'predicted' };

export interface PricingWindows {
  customerServiceWindowOpen: boolean;
  freeEntryPointOpen: boolean;
}

/**
 * Meta's per-message pricing as coexist expects it for a platform send (Meta's own `pricing` on
 * status webhooks replaces it): everything free inside an open free-entry-point window; free-form
 * (service) and utility templates free inside the customer service window; every other template
 * billed by its category.
 */
export function predictPricing(message: OutboundContent, windows: PricingWindows): PricingClass {
  const category = message.type === 'template' ? message.template.category : 'service';
  const withCategory = category !== undefined ? { category } : {};
  if (windows.freeEntryPointOpen) return { billable: false, type: 'free_entry_point', ...withCategory, basis: 'predicted' };
  if (message.type !== 'template' || (category === 'utility' && windows.customerServiceWindowOpen)) {
    return { billable: false, type: 'free_customer_service', ...withCategory, basis: 'predicted' };
  }
  return { billable: true, type: 'regular', ...withCategory, basis: 'predicted' };
}

const META_PRICING_TYPES: readonly string[] = ['regular', 'free_customer_service', 'free_entry_point'];

/**
 * A status webhook's `pricing`: Meta's final word. A `type` Meta adds later is kept as its nearest
 * known class: billable → `regular`, free → `free_customer_service`.
 */
export function metaPricing(pricing: { billable: boolean; type: string; category?: string }): PricingClass {
  const type = META_PRICING_TYPES.includes(pricing.type)
    ? (pricing.type as PricingClass['type'])
    : pricing.billable
      ? 'regular'
      : 'free_customer_service';
  return {
    billable: pricing.billable,
    type,
    ...(pricing.category !== undefined ? { category: pricing.category } : {}),
    basis: 'meta',
  };
}
