/**
 * Graph API responses as Meta documents them (docs/meta.md: #onboarding-calls-in-order,
 * #contacts-and-history-sync, #sending, #account-status-card). Enums stay open:
 * an unknown value is kept as the string Meta sent, never a parse failure.
 */
import { z } from 'zod';

export const errorEnvelopeSchema = z.object({
  error: z
    .object({
      message: z.string().optional(),
      type: z.string().optional(),
      code: z.number().int().optional(),
      error_subcode: z.number().int().optional(),
      error_data: z.object({ details: z.string().optional() }).loose().optional(),
      fbtrace_id: z.string().optional(),
    })
    .loose(),
});

export const accessTokenSchema = z.object({ access_token: z.string().min(1) }).loose();

export const phoneNumberEntrySchema = z
  .object({
    id: z.string(),
    display_phone_number: z.string(),
    verified_name: z.string().optional(),
    status: z.string().optional(),
    is_on_biz_app: z.boolean().optional(),
    platform_type: z.string().optional(),
  })
  .loose();

export const phoneNumbersSchema = z.object({ data: z.array(phoneNumberEntrySchema) }).loose();

/** One page of `GET /<WABA_ID>/message_templates` (docs/meta.md#message-templates). */
export const messageTemplatesSchema = z
  .object({
    data: z.array(
      z
        .object({
          id: z.union([z.string(), z.number()]).transform(String),
          name: z.string().min(1),
          language: z.string().min(1),
          status: z.string().min(1),
          category: z.string().optional(),
          rejected_reason: z.string().optional(),
        })
        .loose(),
    ),
    paging: z
      .object({ cursors: z.object({ after: z.string().optional() }).loose().optional(), next: z.string().optional() })
      .loose()
      .optional(),
  })
  .loose();

export type MessageTemplatePage = z.infer<typeof messageTemplatesSchema>;

export const successSchema = z.object({ success: z.literal(true) }).loose();

const healthErrorSchema = z
  .object({
    error_code: z.number().int(),
    error_description: z.string().optional(),
    possible_solution: z.string().optional(),
  })
  .loose();

export const healthStatusSchema = z
  .object({
    can_send_message: z.string(),
    entities: z
      .array(
        z
          .object({
            entity_type: z.string(),
            id: z.string().optional(),
            can_send_message: z.string().optional(),
            errors: z.array(healthErrorSchema).optional(),
          })
          .loose(),
      )
      .optional(),
  })
  .loose();

export const phoneNumberSchema = z
  .object({
    id: z.string(),
    verified_name: z.string().optional(),
    display_phone_number: z.string().optional(),
    name_status: z.string().optional(),
    quality_rating: z.string().optional(),
    whatsapp_business_manager_messaging_limit: z.string().optional(),
    messaging_limit_tier: z.string().optional(),
    throughput: z.object({ level: z.string() }).loose().optional(),
    status: z.string().optional(),
    health_status: healthStatusSchema.optional(),
    is_on_biz_app: z.boolean().optional(),
    platform_type: z.string().optional(),
    code_verification_status: z.string().optional(),
    account_mode: z.string().optional(),
  })
  .loose();

export const wabaHealthSchema = z.object({ id: z.string(), health_status: healthStatusSchema.optional() }).loose();

export const syncResponseSchema = z.object({ messaging_product: z.literal('whatsapp'), request_id: z.string() }).loose();

export const sendResponseSchema = z
  .object({
    messaging_product: z.literal('whatsapp'),
    // `wa_id` for a send to a phone number, `user_id` for one to a business-scoped user id.
    contacts: z.array(z.object({ input: z.string(), wa_id: z.string().optional(), user_id: z.string().optional() }).loose()),
    messages: z.array(z.object({ id: z.string(), message_status: z.string().optional() }).loose()).min(1),
  })
  .loose();

export type PhoneNumber = z.infer<typeof phoneNumberSchema>;
export type PhoneNumberEntry = z.infer<typeof phoneNumberEntrySchema>;
export type HealthStatus = z.infer<typeof healthStatusSchema>;
export type PhoneNumberField = Exclude<keyof PhoneNumber, 'id'>;

/** POST /<PHONE_ID>/messages body (docs/meta.md#sending): `type` names the content object (`text`, `template`, `image`, ...). */
export interface OutboundMessage {
  /** The customer's phone number; with `recipient` too, Meta takes `to`. */
  to?: string;
  /** The customer's business-scoped user id (or parent id), when the phone number is not known. */
  recipient?: string;
  type: string;
  context?: { message_id: string };
  /** Returned in this message's status webhooks: coexist's client message id. */
  biz_opaque_callback_data?: string;
  [content: string]: unknown;
}
