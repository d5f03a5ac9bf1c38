/**
 * Response schemas of the API's JSON answers: the types the routes' answers are checked against
 * (`satisfies`), and with api/schemas.ts the source of the OpenAPI document (api/openapi.ts).
 * Big domain objects (an ops view's context, the status card) are `loose`: their known fields are
 * described, the rest stays the machine's own business.
 */
import type { StateValue } from 'xstate';
import { z } from 'zod';
import { MESSAGE_STATUS_ORDER } from '../machines/conversation/messages';
import { BLOCKED_REASONS, HISTORY_OUTCOMES, SENDING_BLOCKS, SYNC_FAILURES, WARNINGS } from '../machines/onboarding';

const keysOf = <T extends object>(o: T) => Object.keys(o) as [keyof T & string, ...(keyof T & string)[]];

const epochMs = z.int().min(0).describe('epoch ms');
const isoTime = z.iso.datetime().describe('ISO 8601, UTC');

// --- errors --------------------------------------------------------------------------------------

export const errorSchema = z.strictObject({
  error: z.strictObject({
    code: z
      .string()
      .describe(
        'e.g. invalid_request, invalid_json, unauthorized, not_found, event_refused, or a refusal code of the machine such as customer_service_window_closed',
      ),
    message: z.string(),
    field: z.string().optional().describe('the part of the request at fault: body.…, params.…, query.…, headers.…'),
    hint: z.string().optional().describe('what the caller can do instead'),
    depth: z.int().optional().describe('send_queue_full: sends waiting in the number’s queue'),
    limit: z.int().optional().describe('send_queue_full: the most sends the number’s queue takes'),
  }),
});

// --- machine views (shared) ----------------------------------------------------------------------

export const stageSchema = z.enum([
  'prerequisites',
  'signup',
  'linking',
  'registration',
  'sync',
  'payment',
  'active',
  'blocked',
  'cancelled',
  'offboarded',
]);

export const machineStatusSchema = z.enum(['active', 'done', 'error', 'stopped']);

export const timelineEntrySchema = z.strictObject({
  at: isoTime.describe("the workflow clock's time when the event was processed"),
  from: z.string(),
  to: z.string(),
  event: z.string(),
  by: z.string().optional().describe('who sent it: backend, ops:<name>, …'),
});

export const blockedSchema = z.strictObject({
  reason: z.enum(keysOf(BLOCKED_REASONS)),
  remedy: z.string(),
  stage: z.enum(['prerequisites', 'signup', 'linking', 'registration']),
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
  lastChunkAt: epochMs.optional(),
  declinedAt: epochMs.optional(),
});

// --- onboardings ---------------------------------------------------------------------------------

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
  sync: z.strictObject({ contacts: syncRequestSchema, history: syncRequestSchema, historyProgress: historyProgressSchema }),
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
  timeline: z.array(timelineEntrySchema),
});

// --- conversations -------------------------------------------------------------------------------

export const conversationViewSchema = z.strictObject({
  phoneNumberId: z.string(),
  waId: z.string(),
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

export const messageRecordSchema = z.strictObject({
  id: z.string().describe("Meta's wamid, or client:<clientMessageId> for a send Meta has not answered yet"),
  wamid: z.string().optional(),
  clientMessageId: z.string().optional(),
  phoneNumberId: z.string(),
  waId: z.string(),
  direction: z.enum(['inbound', 'outbound']),
  source: z.enum(['customer', 'platform', 'app_echo', 'history']),
  type: z.string().describe("Meta's message type, verbatim"),
  content: z.record(z.string(), z.unknown()),
  timestamp: epochMs,
  status: z.enum([...MESSAGE_STATUS_ORDER, 'held', 'received']),
  statusAt: epochMs.optional(),
  errorCode: z.int().optional(),
  errorTitle: z.string().optional(),
  pricing: z.strictObject({
    billable: z.boolean(),
    type: z.enum(['business_app', 'inbound', 'free_customer_service', 'free_entry_point', 'regular']),
    category: z.string().optional(),
    basis: z.enum(['predicted', 'meta']),
  }),
  notice: z.strictObject({ code: z.string(), message: z.string() }).optional(),
  reason: z
    .string()
    .optional()
    .describe(
      "coexist's reason for a send it holds (the number's sending-block reason) or failed without Meta " +
        '(customer_service_window_closed, hold_limit_reached)',
    ),
  remedy: z.string().optional().describe('what the business can do about `reason`'),
});

export const messagePageSchema = z.strictObject({
  messages: z.array(messageRecordSchema),
  nextCursor: z.string().optional().describe('absent on the last page'),
});

// --- ops -----------------------------------------------------------------------------------------

export const opsRowSchema = z.strictObject({
  id: z.string(),
  phoneNumber: z.string().nullable(),
  wabaId: z.string().nullable(),
  stage: stageSchema,
  since: isoTime.nullable().describe('when it entered the stage'),
  ageMs: z.number().nullable(),
  budgetMs: z.number().nullable(),
  stuck: z.boolean(),
  blockedReason: z.string().nullable(),
  remedy: z.string().nullable(),
  linkingAttempts: z.int(),
});

export const opsListSchema = z.strictObject({
  onboardings: z.array(opsRowSchema),
  nextPageToken: z.string().optional(),
});

/** XState's state value: a state's key, or an object of parallel or nested regions. */
export const stateValueSchema: z.ZodType<StateValue> = z.lazy(() =>
  z.union([z.string(), z.record(z.string(), stateValueSchema)]),
);

type DiagramNodeJson = {
  id: string;
  key: string;
  type: string;
  initial?: string;
  states: DiagramNodeJson[];
  transitions: { event: string; targets: string[] }[];
};
export const diagramNodeSchema: z.ZodType<DiagramNodeJson> = z.lazy(() =>
  z.strictObject({
    id: z.string(),
    key: z.string(),
    type: z.string(),
    initial: z.string().optional(),
    states: z.array(diagramNodeSchema),
    transitions: z.array(z.strictObject({ event: z.string(), targets: z.array(z.string()) })),
  }),
);

export const opsOnboardingSchema = opsRowSchema.extend({
  state: z.string(),
  status: machineStatusSchema,
  stateValue: stateValueSchema,
  blocked: blockedSchema.nullable(),
  statusCard: statusCardSchema,
  context: z
    .looseObject({
      phoneNumber: z.string(),
      linkingMethod: z.enum(['qr', 'code']),
      linkingAttempts: z.int(),
      wabaId: z.string().optional(),
      phoneNumberId: z.string().optional(),
      sealedToken: z.string().optional().describe('[redacted] once there is a token: the token itself never leaves the workflow'),
    })
    .describe("the machine's context, the business token redacted"),
  timeline: z.array(timelineEntrySchema),
  pendingTimers: z.array(z.strictObject({ id: z.string(), event: z.string(), dueAt: isoTime })),
  activities: z.array(z.strictObject({ type: z.string(), attempt: z.int(), lastFailure: z.string().optional() })),
  effectFailures: z.array(z.strictObject({ at: isoTime, action: z.string(), message: z.string() })),
  machine: diagramNodeSchema.describe("the machine's states and transitions, read from its definition"),
});

// --- webhooks, health, the document itself --------------------------------------------------------

export const webhookAnswerSchema = z.strictObject({
  received: z.int().describe('events in the request'),
  delivered: z.int().describe('events Temporal accepted'),
  unrouted: z.array(z.string()).describe('what no workflow took, classified (e.g. field:<name>); kept in the store'),
});

export const healthySchema = z.strictObject({ status: z.literal('ok'), temporal: z.literal('serving') });
export const degradedSchema = z.strictObject({ status: z.literal('degraded'), temporal: z.literal('unreachable') });

export const openApiDocumentSchema = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});

/** Temporal's codec server protocol: payloads in protobuf JSON (metadata values and data base64). */
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
export const codecPayloadsSchema = z.strictObject({
  payloads: z.array(z.strictObject({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() })),
});

export type ErrorBody = z.infer<typeof errorSchema>;
export type OnboardingView = z.infer<typeof onboardingViewSchema>;
export type ConversationView = z.infer<typeof conversationViewSchema>;
export type SendAnswer = z.infer<typeof sendAnswerSchema>;
export type MessagePage = z.infer<typeof messagePageSchema>;
export type OpsList = z.infer<typeof opsListSchema>;
export type OpsOnboardingView = z.infer<typeof opsOnboardingSchema>;
export type WebhookAnswer = z.infer<typeof webhookAnswerSchema>;
export type Healthy = z.infer<typeof healthySchema>;
export type CodecPayloads = z.infer<typeof codecPayloadsSchema>;
export type Degraded = z.infer<typeof degradedSchema>;
