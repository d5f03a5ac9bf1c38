/**
 * The onboardings resource's schemas: the requests the backend sends (the single source of their
 * types) and the view it reads back; with the other resources' schemas, the source of the OpenAPI
 * document (api/openapi/document.ts).
 */
import { z } from 'zod';
import {
  BLOCKABLE_STAGES,
  BLOCKED_REASONS,
  HISTORY_OUTCOMES,
  SENDING_BLOCKS,
  STAGES,
  SYNC_FAILURES,
  WARNINGS,
} from '../../machines/onboarding';
import { readPhoneNumber } from '../../contracts/ids';
import { epochMs, keysOf, machineStatusSchema, metaIdSchema as id, timelineEntrySchema } from '../http/schemas';

// --- requests ------------------------------------------------------------------------------------

/** A phone number as the backend writes it, read to E.164 (readPhoneNumber); an ambiguous one is refused with the reason. */
export const phoneNumberSchema = z
  .string()
  .max(40)
  .transform((text, ctx) => {
    const reading = readPhoneNumber(text);
    if ('e164' in reading) return reading.e164;
    ctx.addIssue({ code: 'custom', message: reading.refused });
    return z.NEVER;
  })
  .describe(
    'E.164 (+15550783881), or with the country code written with spaces, dashes, dots or parentheses (+1 (555) 078-3881), 00 for + (0015550783881) or as bare digits (15550783881); read to E.164. A number without its country code is refused as ambiguous.',
  );

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

/**
 * What the Embedded Signup page received (docs/meta.md#session-info-events): the session-info message, and
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

// --- the view ----------------------------------------------------------------------------------

export const stageSchema = z.enum(STAGES);

export const blockedSchema = z.strictObject({
  reason: z.enum(keysOf(BLOCKED_REASONS)),
  remedy: z.string(),
  stage: z.enum(BLOCKABLE_STAGES),
  code: z.int().optional().describe("Meta's error code, when there was one"),
  detail: z.string().optional(),
});

/** The WhatsApp Account Status card (statusCardOf). */
export const statusCardSchema = z.looseObject({
  displayName: z.string().optional(),
  nameStatus: z.string().optional(),
  qualityRating: z.string().optional(),
  messagingLimitTier: z.string().optional(),
  throughput: z.strictObject({ level: z.string().optional(), messagesPerSecond: z.number() }),
  sendingState: z.strictObject({
    canSend: z.boolean(),
    reason: z.enum(keysOf(SENDING_BLOCKS)).optional(),
    remedy: z.string().optional(),
  }),
  lastReadAt: epochMs.optional().describe('when Meta last answered a read of the number'),
  syncDeadline: epochMs.optional().describe('contacts and history can be requested until then: 24 h from FINISH'),
});

const syncRequestSchema = z.strictObject({
  status: z.enum(['not_requested', 'requesting', 'requested', 'failed']),
  requestId: z.string().optional(),
  failure: z
    .strictObject({ reason: z.enum(keysOf(SYNC_FAILURES)), code: z.int().optional(), message: z.string(), remedy: z.string() })
    .optional(),
});

const historyProgressSchema = z.strictObject({
  status: z.enum(['not_requested', 'awaiting', 'receiving', ...keysOf(HISTORY_OUTCOMES)]),
  progress: z.number().describe('overall percent, the highest seen'),
  chunks: z.int(),
  phase: z.number().optional(),
  chunkOrder: z.number().optional(),
  phases: z
    .record(z.string(), z.strictObject({ chunks: z.int(), lastChunkOrder: z.number() }))
    .optional()
    .describe('per phase (0: day 0–1, 1: day 1–90, 2: day 90–180): chunks applied and the highest chunk_order seen'),
  lastChunkAt: epochMs.optional(),
  declinedAt: epochMs.optional(),
});

/** What the backend sees of an onboarding (presentOnboarding): never the sealed token. */
export const onboardingViewSchema = z.strictObject({
  id: z.string().describe('the workflow id, onboarding:<phoneNumber>'),
  phoneNumber: z.string(),
  stage: stageSchema,
  state: z.string().describe('the state as dotted leaf paths, e.g. linking.attempt'),
  status: machineStatusSchema,
  blocked: blockedSchema.nullable(),
  linking: z.strictObject({ attempts: z.int(), maxAttempts: z.int(), method: z.enum(['qr', 'code']), attemptTtlMs: z.int() }),
  wabaId: z.string().nullable(),
  phoneNumberId: z.string().nullable(),
  registration: z.strictObject({
    checks: z.int(),
    lastCheck: z.strictObject({ isOnBizApp: z.boolean(), platformType: z.string(), status: z.string().optional() }).optional(),
    lastError: z.string().optional(),
    confirmedBy: z.enum(['check', 'webhook']).optional(),
  }),
  sync: z.strictObject({
    contacts: syncRequestSchema,
    history: syncRequestSchema,
    historyProgress: historyProgressSchema,
    contactsReceived: z
      .strictObject({ contacts: z.int().min(0), firstAt: epochMs.optional().describe('when the first contact arrived') })
      .optional()
      .describe(
        "the phone app's contacts in the contact book (GET /numbers/:phoneNumberId/contacts); on a read of the onboarding",
      ),
    historyReceived: z
      .strictObject({
        messages: z.int().min(0).describe('messages stored from the history sync (source: history)'),
        mediaPlaceholders: z.int().min(0).describe('history messages whose media have not arrived (type media_placeholder)'),
        mediaAttached: z.int().min(0).describe('history messages whose media follow-up reached its placeholder'),
      })
      .optional()
      .describe('what the history sync has stored for the number; on a read of the onboarding'),
  }),
  payment: z.strictObject({
    missing: z.boolean().optional().describe('inferred from health error 141006; absent until first checked'),
    checks: z.int(),
    lastCheck: z
      .strictObject({ canSendMessage: z.string(), paymentMissing: z.boolean(), errorCodes: z.array(z.int()) })
      .optional(),
    lastError: z.string().optional(),
    addedAt: epochMs.optional(),
  }),
  statusCard: statusCardSchema,
  warnings: z.array(z.strictObject({ code: z.enum(keysOf(WARNINGS)), message: z.string() })),
  offboarding: z
    .strictObject({
      event: z.string(),
      reason: z.string().optional(),
      initiatedBy: z.string().optional(),
      eventTime: z.number(),
      remedy: z.string(),
    })
    .nullable(),
  lifecycleEvents: z
    .array(
      z.strictObject({
        event: z.string(),
        time: z.number().describe('entry[].time, or when received if Meta sent none (Unix seconds)'),
        timeMissing: z.literal(true).optional(),
        reason: z.string().optional(),
        initiatedBy: z.string().optional(),
        detail: z.string().optional(),
        stale: z.literal(true).optional(),
      }),
    )
    .describe('account_update events received, in arrival order, duplicates once'),
  timeline: z.array(timelineEntrySchema),
});

export type OnboardingView = z.infer<typeof onboardingViewSchema>;
