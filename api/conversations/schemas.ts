/**
 * The conversations resource's schemas: what the backend may send, the conversation and the
 * message page it reads back.
 */
import { z } from 'zod';
import type { OutboundContent } from '../../machines/conversation';
import { MESSAGE_STATUS_ORDER } from '../../machines/conversation';
import { isCustomerKey } from '../../contracts/ids';
import type { PushBody } from '../../contracts/push';
import { epochMs, isoTime, metaIdSchema as id } from '../http/schemas';

// --- requests ------------------------------------------------------------------------------------

export const conversationParamsSchema = z.object({
  phoneNumberId: id,
  waId: z
    .string()
    .refine(
      isCustomerKey,
      "must be the customer's WhatsApp id (digits only, e.g. 16505551234) or business-scoped user id (e.g. US.13491208655302741918)",
    )
    .describe(
      "the customer, by any identifier Meta gave: phone number (wa_id) or business-scoped user id (BSUID, or parent BSUID); each names the customer's one conversation",
    ),
});

const media = z
  .object({ id: z.string().min(1).max(200).optional(), link: z.url().optional(), caption: z.string().max(1024).optional() })
  .strict()
  .refine((m) => (m.id === undefined) !== (m.link === undefined), 'exactly one of id or link');

/** What the backend may send (docs/meta.md#sending); mirrors the conversation machine's OutboundContent. */
export const outboundContentSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('text'),
      text: z.object({ body: z.string().min(1).max(4096), previewUrl: z.boolean().optional() }).strict(),
    })
    .strict(),
  z
    .object({
      type: z.literal('template'),
      template: z
        .object({
          name: z.string().regex(/^[a-z0-9_]{1,512}$/, 'must be a template name: lowercase letters, digits and _'),
          language: z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'must be a language code like en_US'),
          category: z.enum(['marketing', 'utility', 'authentication']).optional(),
          components: z.array(z.object({}).loose()).max(20).optional(),
        })
        .strict(),
    })
    .strict(),
  z.object({ type: z.literal('image'), image: media }).strict(),
  z.object({ type: z.literal('document'), document: media }).strict(),
  z.object({ type: z.literal('audio'), audio: media }).strict(),
  z.object({ type: z.literal('video'), video: media }).strict(),
  z.object({ type: z.literal('sticker'), sticker: media }).strict(),
  z
    .object({
      type: z.literal('reaction'),
      reaction: z.object({ messageId: z.string().min(1), emoji: z.string().min(1).max(16) }).strict(),
    })
    .strict(),
  z.object({ type: z.literal('interactive'), interactive: z.object({ type: z.string().min(1) }).loose() }).strict(),
]) satisfies z.ZodType<OutboundContent>;

export const sendMessageSchema = z
  .object({
    /** The backend's id for this message: a repeat with the same id is the same message. */
    clientMessageId: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1–128 letters, digits or ._:-'),
    message: outboundContentSchema,
  })
  .strict();

export const listMessagesQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().min(1).max(500).optional(),
    order: z.enum(['asc', 'desc']).default('desc'),
  })
  .strict();

export const numberParamsSchema = z.object({ phoneNumberId: id }).strict();

export const messageParamsSchema = conversationParamsSchema
  .extend({
    messageId: z
      .string()
      .regex(/^[\x21-\x7e]{1,2000}$/, 'must be a message id as listed: printable ASCII, e.g. wamid.HBgL…')
      .describe('the message’s `id`, as the message page lists it'),
  })
  .strict();

export const listConversationsQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().min(1).max(500).optional(),
    window: z.enum(['open', 'closed']).optional().describe("the customer-service window's state now"),
  })
  .strict();

export const listOrphanStatusesQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }).strict();

export type SendMessage = z.infer<typeof sendMessageSchema>;

// --- answers -----------------------------------------------------------------------------------

/** The conversation's key: `waId` in views, records and pushes. */
const customerKey = z
  .string()
  .describe(
    "the customer part of the conversation's id: the customer's wa_id, or their business-scoped user id when the conversation began without their phone number; it never changes",
  );

export const customerSchema = z
  .strictObject({
    waId: z.string().optional().describe('phone number, digits only, when Meta shares it'),
    userId: z.string().optional().describe('business-scoped user id (BSUID), e.g. US.13491208655302741918'),
    parentUserId: z.string().optional().describe('parent BSUID, when Meta enables it for the business'),
    username: z.string().optional().describe('the WhatsApp username, as last reported'),
  })
  .describe('every identifier Meta gave for the customer, linked (a send goes `to` the phone when known, else by `recipient`)');

export const conversationViewSchema = z.strictObject({
  phoneNumberId: z.string(),
  waId: customerKey,
  customer: customerSchema,
  customerServiceWindow: z.strictObject({
    status: z.enum(['open', 'closed']),
    expiresAt: epochMs.optional(),
    openedAt: epochMs.optional(),
  }),
  freeEntryPoint: z.strictObject({ status: z.enum(['none', 'eligible', 'open']), expiresAt: epochMs.optional() }),
  inbox: z.enum(['open', 'closed']),
  allowedToSend: z
    .enum(['any', 'templates_only'])
    .describe('free-form only inside the customer service window; templates always'),
  counts: z.strictObject({ customer: z.int(), platform: z.int(), echoes: z.int(), history: z.int() }),
  state: z.string(),
});

export const sendAnswerSchema = z.strictObject({
  clientMessageId: z.string(),
  status: z.literal('queued'),
  conversation: conversationViewSchema,
});

const pricingSchema = z.strictObject({
  billable: z.boolean(),
  type: z.enum(['business_app', 'inbound', 'free_customer_service', 'free_entry_point', 'regular']),
  category: z.string().optional(),
  basis: z.enum(['predicted', 'meta']),
});

export const messageRecordSchema = z.strictObject({
  id: z.string().describe("Meta's wamid, or client:<clientMessageId> for a send Meta has not answered yet"),
  wamid: z.string().optional(),
  clientMessageId: z.string().optional(),
  phoneNumberId: z.string(),
  waId: customerKey,
  direction: z.enum(['inbound', 'outbound']),
  source: z.enum(['customer', 'platform', 'app_echo', 'history']),
  type: z.string().describe("Meta's message type, verbatim"),
  content: z.record(z.string(), z.unknown()),
  timestamp: epochMs,
  status: z.enum([...MESSAGE_STATUS_ORDER, 'held', 'received']),
  statusAt: epochMs.optional(),
  errorCode: z.int().optional(),
  errorTitle: z.string().optional(),
  pricing: pricingSchema,
  notice: z.strictObject({ code: z.string(), message: z.string() }).optional(),
  reason: z
    .string()
    .optional()
    .describe(
      "coexist's reason for a send it holds (the number's sending-block reason) or failed without Meta " +
        "(customer_service_window_closed, hold_limit_reached), or Meta's refusal of this one message named " +
        '(bsuid_recipient_not_supported: 131062)',
    ),
  remedy: z.string().optional().describe('what the business can do about `reason`'),
});

export const messagePageSchema = z.strictObject({
  messages: z.array(messageRecordSchema),
  nextCursor: z.string().optional().describe('absent on the last page'),
});

export const conversationSummarySchema = z.strictObject({
  waId: customerKey,
  customer: customerSchema,
  lastMessageAt: epochMs.describe('the newest message’s time'),
  lastDirection: z.enum(['inbound', 'outbound']),
  inbound: z.int().describe('messages from the customer'),
  outbound: z.int().describe('messages to the customer (platform, phone app, history)'),
  windowExpiresAt: epochMs
    .nullable()
    .describe("the customer-service window's end: the customer's last message + 24 h; null if the customer never wrote"),
});

export const conversationListSchema = z.strictObject({
  conversations: z.array(conversationSummarySchema).describe('newest activity first'),
  nextCursor: z.string().optional().describe('absent on the last page'),
});

/** A status Meta reported for a message (or the sender's own answer), as the store applies it. */
export const messageStatusUpdateSchema = z.strictObject({
  phoneNumberId: z.string(),
  waId: customerKey,
  wamid: z.string().optional(),
  clientMessageId: z.string().optional(),
  status: z.enum(MESSAGE_STATUS_ORDER),
  timestamp: epochMs.describe("Meta's time of the status (never later than when it was received)"),
  errorCode: z.int().optional(),
  errorTitle: z.string().optional(),
  pricing: pricingSchema.optional(),
});

export const orphanStatusSchema = messageStatusUpdateSchema.extend({
  receivedAt: isoTime.describe('when the store kept it'),
});

export const orphanStatusListSchema = z.strictObject({
  statuses: z
    .array(orphanStatusSchema)
    .describe('statuses whose message is not (yet) recorded, oldest first; each moves onto its message when it is'),
});

/**
 * The raw answer's headers: which kept delivery a message came in, and where in it. The body is
 * the delivery exactly as Meta sent it (it may hold other items beside this message).
 */
export const RAW_MESSAGE_HEADERS = {
  'Coexist-Delivery-Id': 'the inbox delivery the message came in (the first that carried it)',
  'Coexist-Delivery-Received-At': 'when Meta delivered it (ISO 8601, UTC)',
  'Coexist-Item-Id': 'the inbox item that carried the message to its conversation',
  'Coexist-Item-Path': 'the message in the body, e.g. `entry[0].changes[0].value.messages[2]`',
  'Coexist-Entry-Index': 'its index in `entry[]` (absent when the body has no `entry[]`)',
  'Coexist-Change-Index': 'its index in the entry’s `changes[]` (absent when the entry has none)',
} as const;

export const rawDeliverySchema = z
  .unknown()
  .describe('the delivery’s bytes exactly as Meta sent them and the signature covered them (lone surrogate escapes and all)');

export type ConversationView = z.infer<typeof conversationViewSchema>;
export type CustomerView = z.infer<typeof customerSchema>;
export type ConversationList = z.infer<typeof conversationListSchema>;
export type OrphanStatusList = z.infer<typeof orphanStatusListSchema>;
export type SendAnswer = z.infer<typeof sendAnswerSchema>;
export type MessagePage = z.infer<typeof messagePageSchema>;

// --- pushes to the backend (BACKEND_PUSH_EVENTS; contracts/push.ts) ------------------------------

const pushOf = {
  deliveryId: z.string().describe('the same on every attempt (also `X-Coexist-Delivery-Id`): deduplicate by it'),
  phoneNumberId: z.string(),
  waId: customerKey,
  conversationId: z.string().describe('conversation:<phone_number_id>:<wa_id>, the key of its pushes’ order'),
  occurredAt: epochMs.describe("Meta's time of the event (never later than when it was received)"),
};

/** A push's body, by kind: what a backend that set BACKEND_PUSH_EVENTS receives at BACKEND_CALLBACK_URL. */
export const conversationPushSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('message.received'), message: messageRecordSchema, ...pushOf }),
  z.strictObject({ kind: z.literal('message.echo'), message: messageRecordSchema, ...pushOf }),
  z.strictObject({ kind: z.literal('message.status'), status: messageStatusUpdateSchema, ...pushOf }),
  z.strictObject({
    kind: z.literal('window.changed'),
    customerServiceWindow: z.discriminatedUnion('status', [
      z.strictObject({
        status: z.literal('open'),
        expiresAt: epochMs.describe('closes then unless a later push says otherwise'),
      }),
      z.strictObject({ status: z.literal('closed'), closedBy: z.literal('meta'), closedAt: epochMs }),
    ]),
    ...pushOf,
  }),
]) satisfies z.ZodType<PushBody>;
