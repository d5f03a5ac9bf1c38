/** The ops resource's schemas: the list's query, the repairs, the rows and the inspection of one onboarding. */
import type { StateValue } from 'xstate';
import { z } from 'zod';
import { ACTORS, BLOCKABLE_STAGES, STAGES } from '../../machines/onboarding';
import type { DiagramNode } from './diagram';
import { blockedSchema, stageSchema, statusCardSchema } from '../onboardings/schemas';
import { isoTime, machineStatusSchema, timelineEntrySchema } from '../http/schemas';

// --- requests ------------------------------------------------------------------------------------

export const listQuerySchema = z
  .object({
    stage: z.enum(STAGES).optional(),
    stuck: z.enum(['true', 'false']).optional(),
    blockedReason: z
      .string()
      .regex(/^[a-z0-9_]{1,64}$/, 'must be a blocked reason code like qr_not_scanned')
      .optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    pageToken: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,2000}$/, 'must be a nextPageToken')
      .optional(),
  })
  .strict();

export const parkedQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,100}$/, 'must be a nextCursor')
      .optional(),
  })
  .strict();

export const actionSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('retry') }).strict(),
  z.object({ action: z.literal('refreshLinking') }).strict(),
  z.object({ action: z.literal('refreshStatusCard') }).strict(),
  z.object({ action: z.literal('recheckPayment') }).strict(),
  z.object({ action: z.literal('cancel') }).strict(),
  z.object({ action: z.literal('reset'), to: z.enum(BLOCKABLE_STAGES) }).strict(),
]);

// --- answers -----------------------------------------------------------------------------------

export const waitSchema = z
  .strictObject({
    actor: z
      .enum(ACTORS)
      .describe('who must act: the person (phone, signup screens), the business (its backend), Meta, ops, or nobody'),
    waitsFor: z.string(),
  })
  .describe('what the onboarding waits for in its state (machines/onboarding/waits.ts)');

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
  syncDeadline: isoTime.nullable().describe('contacts and history can be requested until then: 24 h from FINISH'),
  syncDeadlineNear: z.boolean().describe('not synced yet, and the deadline is within 6 h (or passed)'),
  waitingFor: waitSchema,
});

export const opsListSchema = z.strictObject({
  onboardings: z.array(opsRowSchema),
  nextPageToken: z.string().optional(),
});

/** XState's state value: a state's key, or an object of parallel or nested regions. */
export const stateValueSchema: z.ZodType<StateValue> = z.lazy(() =>
  z.union([z.string(), z.record(z.string(), stateValueSchema)]),
);

export const diagramNodeSchema: z.ZodType<DiagramNode> = z.lazy(() =>
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
  actions: z
    .array(actionSchema)
    .describe("the repairs the current state accepts (the machine's `snapshot.can`), as POST …/actions bodies"),
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

export type OpsList = z.infer<typeof opsListSchema>;
export type OpsOnboardingView = z.infer<typeof opsOnboardingSchema>;
export type OpsAction = z.infer<typeof actionSchema>;

export const opsOverviewSchema = z.strictObject({
  at: isoTime,
  counted: z
    .strictObject({ from: isoTime, to: isoTime })
    .describe('the span entered/left and totals cover: the last day, or since this process started'),
  stages: z.array(
    z.strictObject({
      stage: stageSchema,
      now: z.int().describe('running onboardings in the stage (Temporal visibility)'),
      enteredLastDay: z.number(),
      leftLastDay: z.number(),
      budgetMs: z.number().nullable(),
      ages: z
        .array(
          z.strictObject({
            leMs: z.number().nullable().describe('upper edge of the bucket; null: open'),
            count: z.int(),
            overBudget: z.boolean(),
          }),
        )
        .nullable()
        .describe('time in the stage so far of the running onboardings; null where nobody waits'),
    }),
  ),
  perMinute: z.array(z.strictObject({ at: isoTime, sends: z.number(), webhooks: z.number() })),
  totals: z.strictObject({ sends: z.number(), webhooks: z.number() }),
});
export type OpsOverviewView = z.infer<typeof opsOverviewSchema>;

export const parkedEffectSchema = z.strictObject({
  parkedAt: isoTime,
  workflowId: z.string(),
  action: z.string().describe('the effect: recordMessage, recordStatus, enqueueSend'),
  reason: z
    .enum(['conflict', 'failed'])
    .describe('conflict: a different message under an id already recorded; failed: a failure retrying cannot fix'),
  error: z.string(),
  attempts: z.int(),
  params: z.unknown().describe("the effect's input as the workflow gave it (the message record or status)"),
});

export const parkedPageSchema = z.strictObject({
  parked: z.array(parkedEffectSchema).describe('newest first'),
  nextCursor: z.string().optional().describe('absent on the last page'),
});

export type ParkedPage = z.infer<typeof parkedPageSchema>;

export const opsWebhooksSchema = z.strictObject({
  inbox: z.strictObject({
    pending: z.int().describe('webhook items kept (answered 200) and not yet taken by their workflows'),
    oldestPendingSeconds: z.number().describe('the dispatch lag: how long the oldest of them has waited (0 when none)'),
  }),
  quarantine: z.strictObject({
    total: z.int().describe('entries kept aside (GET /ops/quarantine lists them)'),
    notReplayed: z.int().describe('of them, never replayed'),
  }),
  parked: z.strictObject({ total: z.int().describe('conversation effects parked (GET /ops/parked lists them)') }),
});

export type OpsWebhooks = z.infer<typeof opsWebhooksSchema>;
