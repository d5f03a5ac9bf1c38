/** Request schemas of the backend's routes: the single source of their types (and of OpenAPI). */
import { z } from 'zod';
import type { OutboundContent } from '../machines/conversation';
import { E164, WA_ID } from '../contracts/ids';

export const phoneNumberSchema = z.string().regex(E164, 'must be an E.164 phone number, e.g. +15550783881');

export const phoneNumberParamsSchema = z.object({ phoneNumber: phoneNumberSchema });

/** Per-onboarding overrides of the machine's settings (defaults: DEFAULT_ONBOARDING_SETTINGS). */
export const onboardingSettingsSchema = z
  .object({
    linkingMethod: z.enum(['qr', 'code']),
    linkingAttemptTtlMs: z
      .number()
      .int()
      .min(1_000)
      .max(30 * 60_000),
    maxLinkingAttempts: z.number().int().min(1).max(20),
    registrationPollIntervalMs: z
      .number()
      .int()
      .min(100)
      .max(10 * 60_000),
    registrationDeadlineMs: z
      .number()
      .int()
      .min(1_000)
      .max(7 * 24 * 60 * 60_000),
    historySilenceMs: z
      .number()
      .int()
      .min(1_000)
      .max(7 * 24 * 60 * 60_000),
    historyStallMs: z
      .number()
      .int()
      .min(1_000)
      .max(7 * 24 * 60 * 60_000),
    paymentRecheckMs: z
      .number()
      .int()
      .min(1_000)
      .max(7 * 24 * 60 * 60_000),
    statusCardRefreshMs: z
      .number()
      .int()
      .min(1_000)
      .max(7 * 24 * 60 * 60_000),
  })
  .partial()
  .strict();

export const startOnboardingSchema = z
  .object({ phoneNumber: phoneNumberSchema, settings: onboardingSettingsSchema.optional() })
  .strict();

export const prerequisitesSchema = z
  .object({
    appVersion: z.string().regex(/^\d+(\.\d+){1,3}$/, 'must be a version like 2.24.17'),
    hasBusinessPortfolio: z.boolean(),
    connectedElsewhere: z.boolean(),
    hasPaymentMethod: z.boolean().optional(),
  })
  .strict();

/** Meta's ids are positive decimal numbers (never 0, no leading zeros). */
const id = z.string().regex(/^[1-9]\d{0,31}$/, 'must be a numeric Meta id');

/**
 * What the Embedded Signup page received (meta-reference §1.4): the session-info message, and
 * with a finish the authorization code from FB.login's callback.
 */
export const signupResultSchema = z.discriminatedUnion('event', [
  z
    .object({
      event: z.enum(['FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING', 'FINISH']),
      code: z.string().min(1).max(2048),
      data: z.object({ waba_id: id, phone_number_id: id.optional(), business_id: id.optional() }),
    })
    .strict(),
  z
    .object({
      event: z.enum(['CANCEL', 'CANCEL_WHATSAPP_BUSINESS_APP_ONBOARDING', 'ERROR', 'ERROR_WHATSAPP_BUSINESS_APP_ONBOARDING']),
      data: z.object({
        current_step: z.string().max(100).optional(),
        error_code: z.union([z.string().max(20), z.number().int()]).optional(),
        error_message: z.string().max(2000).optional(),
        session_id: z.string().max(200).optional(),
      }),
    })
    .strict(),
]);

/** Things the user did, as the backend reports them. */
export const userEventSchema = z.discriminatedUnion('type', [
  /** The Embedded Signup popup opened: the signup session (and its QR / code countdown) starts. */
  z.object({ type: z.literal('signupStarted') }).strict(),
  z.object({ type: z.literal('qrScanned') }).strict(),
  z.object({ type: z.literal('codeEntered') }).strict(),
  z.object({ type: z.literal('refreshLinking') }).strict(),
  z.object({ type: z.literal('paymentAdded') }).strict(),
  z.object({ type: z.literal('refreshStatusCard') }).strict(),
  z.object({ type: z.literal('retry') }).strict(),
  z.object({ type: z.literal('cancel') }).strict(),
]);

export type SignupResult = z.infer<typeof signupResultSchema>;
export type UserEvent = z.infer<typeof userEventSchema>;
export type Prerequisites = z.infer<typeof prerequisitesSchema>;

// --- conversations -------------------------------------------------------------------------------

export const conversationParamsSchema = z.object({
  phoneNumberId: id,
  waId: z.string().regex(WA_ID, "must be the customer's WhatsApp id: digits only, e.g. 16505551234"),
});

const media = z
  .object({ id: z.string().min(1).max(200).optional(), link: z.url().optional(), caption: z.string().max(1024).optional() })
  .strict()
  .refine((m) => (m.id === undefined) !== (m.link === undefined), 'exactly one of id or link');

/** What the backend may send (meta-reference §5); mirrors the conversation machine's OutboundContent. */
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

export type SendMessage = z.infer<typeof sendMessageSchema>;
