/**
 * A scenario file (`test/scenarios/*.yaml`): one business number, a named sequence of steps, and
 * expectations after any of them. The same file plays against the pure machine (scenarios/machine-target.ts)
 * and against the real workflows through the API and the simulator (scenarios/http-target.ts).
 *
 * Strings may name `${phone}`, `${phoneDigits}`, `${wabaId}` and `${phoneNumberId}`: the number and
 * the ids the simulator gave it.
 */
import { z } from 'zod';
import { sendMessageSchema } from '../api/conversations/schemas';
import { prerequisitesSchema, startOnboardingSchema, userEventSchema, type UserEvent } from '../api/onboardings/schemas';

const json = z.record(z.string(), z.unknown());
const waId = z.string().regex(/^\d{6,20}$/, 'must be a wa_id (digits)');

/** `90s`, `10m`, `25h`, `3d`, `1500ms`, or milliseconds. */
export const durationSchema = z.preprocess(
  (v) => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? `${v}ms` : v),
  z
    .string('must be a duration like 1500ms, 90s, 10m, 25h or 3d')
    .regex(/^\d+(ms|s|m|h|d)$/, 'must be a duration like 1500ms, 90s, 10m, 25h or 3d')
    .transform((s) => {
      const [, n, unit] = /^(\d+)(ms|s|m|h|d)$/.exec(s)!;
      return Number(n) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit as 'ms' | 's' | 'm' | 'h' | 'd'];
    }),
);

/** The HTTP status an API step must get; default: any 2xx. */
const answer = z.number().int().min(200).max(599).optional();

export const expectationSchema = z
  .object({
    /** Fields of `GET /onboardings/:phone`, matched as a subset (arrays: exact length, each a subset). */
    onboarding: json.optional(),
    /** Fields of `GET /numbers/:phoneNumberId/conversations/:waId`, by customer. */
    conversations: z.record(waId, json).optional(),
    /** `GET …/messages`, by customer: exactly these messages, each matched as a subset, in any order. */
    messages: z.record(waId, z.array(json)).optional(),
    /** Backend callbacks of these kinds have arrived for the number (in any order). */
    callbacks: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict()
  .refine(
    (e) => Object.keys(e).length > 0,
    'an expectation names at least one of onboarding, conversations, messages, callbacks',
  );

const step = <K extends string, T extends z.ZodRawShape>(kind: K, shape: T) =>
  z.object({ do: z.literal(kind), ...shape, expect: expectationSchema.optional() }).strict();

const steps = z.discriminatedUnion('do', [
  /** POST /onboardings */
  step('start', { settings: startOnboardingSchema.shape.settings, answer }),
  /** POST /onboardings/:phone/prerequisites */
  step('prerequisites', { report: prerequisitesSchema, answer }),
  /**
   * The simulated Embedded Signup in Meta's order: the popup opens (the backend reports
   * `signupStarted`), the phone scans the QR, and only then does Meta post FINISH, which the
   * backend forwards to POST /onboardings/:phone/signup with the code.
   */
  step('signup', {
    /** Meta's clock moves this far between FINISH and the code exchange (codes live about 30 s). */
    codeAgeMs: z.number().int().nonnegative().optional(),
    /** The user leaves Embedded Signup at this step (a CANCEL with current_step). */
    abandonAt: z.string().min(1).optional(),
    /** false: the popup only opens (the QR shows); a later `finish` step scans it. */
    scan: z.boolean().default(true),
    answer,
  }),
  /** The phone scans the QR of the open popup; Meta posts FINISH, the backend forwards it. */
  step('finish', { codeAgeMs: z.number().int().nonnegative().optional(), answer }),
  /** The person leaves the open popup at a step: the backend forwards Meta's CANCEL. */
  step('cancelSignup', { currentStep: z.string().min(1).default('PHONE_NUMBER_VERIFICATION'), answer }),
  /** POST /onboardings/:phone/events */
  step('event', {
    type: z.enum(userEventSchema.options.map((o) => o.shape.type.value) as [UserEvent['type'], ...UserEvent['type'][]]),
    answer,
  }),
  /** POST /numbers/:phoneNumberId/conversations/:waId/messages */
  step('send', { waId, ...sendMessageSchema.shape, answer }),
  /** Any call to the simulator's control API (`/_sim…`): the phone, the customer, Meta's side. */
  step('sim', {
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
    path: z.string().regex(/^\//, 'must start with /'),
    body: z.unknown().optional(),
    answer,
    /** Repeats the call until it gets its answer, for at most this long (the phone waits for the QR to show). */
    retryFor: durationSchema.optional(),
  }),
  /** A webhook change sent by the simulator as Meta would (signed, to the API). */
  /** `time`: entry[].time in seconds (default: the simulator's now; null: no time at all). */
  step('webhook', { field: z.string().min(1), value: json, time: z.number().int().nullable().optional() }),
  /** Moves the clock (Temporal's and the simulator's): timers that fall due fire. */
  step('advance', { by: durationSchema }),
  /** Only expectations. */
  step('check', {}),
]);

/** A step of only `expect` is a `check`. */
export const stepSchema = z.preprocess(
  (v) => (v && typeof v === 'object' && !('do' in v) && 'expect' in v ? { do: 'check', ...v } : v),
  steps,
);

export const scenarioSchema = z
  .object({
    /** One line: what the scenario shows (`npm run scenario` lists it). */
    name: z.string().min(1),
    /** A paragraph: the case, step by step, in the user's and Meta's words. */
    description: z.string().optional(),
    /** The business number, live in the simulated WhatsApp Business app. */
    phone: z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number'),
    /** The number's settings in the simulator (`POST /_sim/numbers`). */
    meta: json.default({}),
    steps: z.array(stepSchema).min(1),
  })
  .strict();

export type Scenario = z.infer<typeof scenarioSchema>;
export type Step = z.infer<typeof stepSchema>;
export type Expectation = z.infer<typeof expectationSchema>;

/** A scenario with `advance` steps moves the clock: only the time-skipping server (`npm test`) can play it. */
export const movesClock = (s: Pick<Scenario, 'steps'>): boolean => s.steps.some((step) => step.do === 'advance');
