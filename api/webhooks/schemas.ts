/**
 * Meta's webhook payloads (docs/meta.md#webhooks), parsed by zod. Only the fields routed here are
 * required; everything else is kept (`loose`) and unknown fields are classified, never refused.
 */
import { z } from 'zod';
import { unixSeconds } from './time';

/**
 * Meta's Unix seconds: a string of digits as documented, leniently a number or milliseconds;
 * anything else (empty, `abc`, negative) is no time, and the received time stands in: a bad
 * timestamp never costs the change.
 */
const timestampSchema = z.union([z.string(), z.number()]).optional().catch(undefined).transform(unixSeconds);

/** Text kept in its own store column: PostgreSQL text cannot hold NUL, so such an item is classified, not stored. */
const storableText = z.string().refine((s) => !s.includes('\u0000'), 'contains a NUL character');

export const changeSchema = z.object({ field: z.string(), value: z.unknown() }).loose();

/** Meta batches at most 1000 updates in one delivery; more is not Meta. */
export const MAX_WEBHOOK_UPDATES = 1000;

export const envelopeSchema = z.object({
  object: z.string().describe('whatsapp_business_account; absent is read as it, anything else is kept aside'),
  entry: z
    .array(
      z
        .object({
          id: z.string(),
          time: z.number().optional(),
          changes: z.array(changeSchema).max(MAX_WEBHOOK_UPDATES).default([]),
        })
        .loose(),
    )
    .max(MAX_WEBHOOK_UPDATES),
});

const metadataSchema = z.object({ display_phone_number: z.string(), phone_number_id: z.string() }).loose();

export const accountUpdateSchema = z
  .object({
    event: z.string(),
    phone_number: z.string().optional(),
    disconnection_info: z.object({ reason: z.string().optional(), initiated_by: z.string().optional() }).loose().optional(),
    waba_info: z.object({ waba_id: z.string().optional() }).loose().optional(),
    /** ACCOUNT_RESTRICTION: restriction_type and expiration per restriction; none left = lifted. */
    restriction_info: z.array(z.object({}).loose()).optional(),
    /** DISABLED_UPDATE: waba_ban_state (DISABLE, SCHEDULE_FOR_DISABLE, REINSTATE) and waba_ban_date. */
    ban_info: z.object({}).loose().optional(),
    /** ACCOUNT_VIOLATION: violation_type. */
    violation_info: z.object({}).loose().optional(),
  })
  .loose();

const errorSchema = z.object({ code: z.number(), title: z.string().optional() }).loose();

/** A message as Meta writes it: `type` names the content object (`text`, `image`, ...). */
export const messageSchema = z
  .object({
    id: z.string().min(1),
    timestamp: timestampSchema,
    type: z.string().min(1),
    /** The customer's phone number; empty or absent when they hide it behind a username. */
    from: z.string().optional(),
    to: z.string().optional(),
    /** The customer's business-scoped user id (BSUID) and parent BSUID, on what they sent. */
    from_user_id: z.string().optional(),
    from_parent_user_id: z.string().optional(),
    /** The same, on what the business sent (echoes, history). */
    to_user_id: z.string().optional(),
    to_parent_user_id: z.string().optional(),
    context: z.object({}).loose().optional(),
    referral: z
      .object({ source_type: z.string().optional(), source_id: z.string().optional(), ctwa_clid: z.string().optional() })
      .loose()
      .optional(),
    errors: z.array(errorSchema).optional(),
  })
  .loose();

export const statusSchema = z
  .object({
    id: z.string().min(1),
    status: z.string(),
    timestamp: timestampSchema,
    /** The customer's phone number; empty when the send went by BSUID and the phone is not shared. */
    recipient_id: z.string().optional(),
    recipient_user_id: z.string().optional(),
    recipient_parent_user_id: z.string().optional(),
    biz_opaque_callback_data: z.string().optional(),
    pricing: z
      .object({ billable: z.boolean().optional(), type: z.string().optional(), category: z.string().optional() })
      .loose()
      .optional(),
    errors: z.array(errorSchema).optional(),
  })
  .loose();

export const inboundMessageSchema = messageSchema;
export const echoMessageSchema = messageSchema;

/** Who a `contacts[]` entry is: phone (when shared), BSUID, parent BSUID, profile name and username. */
export const webhookContactSchema = z
  .object({
    wa_id: z.string().optional(),
    user_id: z.string().optional(),
    parent_user_id: z.string().optional(),
    profile: z.object({ name: z.string().optional(), username: z.string().optional() }).loose().optional(),
  })
  .loose();

export type WebhookContact = z.infer<typeof webhookContactSchema>;

/** `messages`: inbound messages of customers and statuses of our sends (docs/meta.md#inbound-messages, docs/meta.md#statuses-of-our-sends). */
export const messagesValueSchema = z
  .object({
    metadata: metadataSchema,
    contacts: z.array(webhookContactSchema).optional(),
    messages: z.array(inboundMessageSchema).optional(),
    statuses: z.array(statusSchema).optional(),
    errors: z.array(errorSchema).optional(),
  })
  .loose();

/** `smb_message_echoes`: what the business sent from the phone app (docs/meta.md#echoes-from-the-phone-app). */
export const echoesValueSchema = z
  .object({
    metadata: metadataSchema,
    message_echoes: z.array(echoMessageSchema),
    contacts: z.array(webhookContactSchema).optional(),
  })
  .loose();

/**
 * `smb_app_state_sync`: contacts added, edited or removed in the phone app
 * (docs/meta.md#contacts-from-the-phone-app). Each item is read on its own (stateSyncItemSchema),
 * so one odd item does not cost the others.
 */
export const stateSyncValueSchema = z.object({ metadata: metadataSchema, state_sync: z.array(z.unknown()) }).loose();

export const stateSyncItemSchema = z
  .object({
    type: z.string(),
    action: z.string(),
    contact: z
      .object({
        phone_number: storableText.optional(),
        user_id: storableText.optional(),
        full_name: storableText.optional(),
        first_name: storableText.optional(),
      })
      .loose()
      .optional(),
    metadata: z.object({ timestamp: timestampSchema }).loose().optional(),
  })
  .loose();

export const historySchema = z
  .object({
    metadata: metadataSchema,
    history: z.array(
      z
        .object({
          metadata: z
            .object({ phase: z.number().optional(), chunk_order: z.number().optional(), progress: z.number().optional() })
            .loose()
            .optional(),
          threads: z.array(z.object({ id: z.string(), messages: z.array(messageSchema).default([]) }).loose()).optional(),
          errors: z.array(errorSchema).optional(),
        })
        .loose(),
    ),
  })
  .loose();

/**
 * `history` media follow-up: for the last 14 days of history, Meta sends each media message again
 * with its media, as plain `messages[]` (no `history[]`), under the placeholder's message id
 * (docs/meta.md#history-chunks).
 */
export const historyMediaSchema = z
  .object({ metadata: metadataSchema, messages: z.array(messageSchema.extend({ id: storableText.min(1) })) })
  .loose();

export type WebhookMessage = z.infer<typeof messageSchema>;

/**
 * A `system` message's `system` object: Meta telling that the customer changed their phone number
 * or BSUID (docs/meta.md#usernames-and-bsuids). Read apart from the message, which is kept as sent
 * whatever this holds.
 */
export const systemNoticeSchema = z
  .object({
    type: z.string(),
    body: z.string().optional(),
    wa_id: z.string().optional(),
    user_id: z.string().optional(),
    parent_user_id: z.string().optional(),
  })
  .loose();
export type WebhookStatus = z.infer<typeof statusSchema>;

export const qualityUpdateSchema = z
  .object({
    display_phone_number: z.string(),
    event: z.string().optional(),
    current_limit: z.string().optional(),
    max_daily_conversations_per_business: z.string().optional(),
  })
  .loose();

export const nameUpdateSchema = z
  .object({ display_phone_number: z.string(), decision: z.string(), requested_verified_name: z.string().optional() })
  .loose();

/**
 * `message_template_status_update`: a template of the entry's WABA changed status
 * (docs/meta.md#message-templates). Meta has sent the id as a number and as a string.
 */
export const templateStatusUpdateSchema = z
  .object({
    event: storableText.min(1),
    message_template_id: z.union([z.number(), storableText]).optional(),
    message_template_name: storableText.min(1),
    message_template_language: storableText.min(1),
    message_template_category: storableText.optional(),
    reason: storableText.nullable().optional(),
  })
  .loose();

export type Envelope = z.infer<typeof envelopeSchema>;

// --- our side: the verification handshake and the answer ------------------------------------------

export const handshakeSchema = z.object({
  'hub.mode': z.literal('subscribe'),
  'hub.verify_token': z.string(),
  'hub.challenge': z.string().min(1).max(200),
});

export type Handshake = z.infer<typeof handshakeSchema>;

export const webhookAnswerSchema = z.strictObject({
  received: z.int().describe('events in the request, routed or not'),
  queued: z
    .int()
    .describe('events kept in the inbox for their workflows by this request (a redelivered event is not queued again)'),
  unrouted: z
    .array(z.string())
    .describe('what no workflow is addressed by, classified (e.g. field:<name>); kept with the delivery in the quarantine'),
});

export type WebhookAnswer = z.infer<typeof webhookAnswerSchema>;
