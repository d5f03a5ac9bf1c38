/** Request schemas of the backend's routes: the single source of their types (and of OpenAPI). */
import { z } from 'zod';
import { E164 } from '../workflows/ids';

export const phoneNumberSchema = z.string().regex(E164, 'must be an E.164 phone number, e.g. +15550783881');

export const phoneNumberParamsSchema = z.object({ phoneNumber: phoneNumberSchema });

/** Per-onboarding overrides of the machine's settings (defaults: DEFAULT_ONBOARDING_SETTINGS). */
export const onboardingSettingsSchema = z
  .object({
    linkingMethod: z.enum(['qr', 'code']),
    linkingAttemptTtlMs: z.number().int().min(1_000).max(30 * 60_000),
    maxLinkingAttempts: z.number().int().min(1).max(20),
    registrationPollIntervalMs: z.number().int().min(100).max(10 * 60_000),
    registrationDeadlineMs: z.number().int().min(1_000).max(7 * 24 * 60 * 60_000),
    historySilenceMs: z.number().int().min(1_000).max(7 * 24 * 60 * 60_000),
    historyStallMs: z.number().int().min(1_000).max(7 * 24 * 60 * 60_000),
    paymentRecheckMs: z.number().int().min(1_000).max(7 * 24 * 60 * 60_000),
  })
  .partial()
  .strict();

export const startOnboardingSchema = z.object({ phoneNumber: phoneNumberSchema, settings: onboardingSettingsSchema.optional() }).strict();

export const prerequisitesSchema = z
  .object({
    appVersion: z.string().regex(/^\d+(\.\d+){1,3}$/, 'must be a version like 2.24.17'),
    hasBusinessPortfolio: z.boolean(),
    connectedElsewhere: z.boolean(),
    hasPaymentMethod: z.boolean().optional(),
  })
  .strict();

const id = z.string().regex(/^\d{1,32}$/, 'must be a numeric Meta id');

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
      data: z
        .object({
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
