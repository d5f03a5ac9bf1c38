/**
 * What the generated paths (./paths.ts) send and tell apart: for each machine, the walks that
 * `getShortestPaths` makes. A walk offers in each snapshot every event type a state node there
 * listens for, in the variants its guards and its activities' outcomes tell apart (lifecycle
 * times read from the snapshot, so a "newer" event is newer than any seen; message ids from the
 * counters, so each is new), and serialises a snapshot down to what decides what can happen next.
 */
import { getNextTransitions, type AnyEventObject, type AnyMachineSnapshot } from 'xstate';
import type { ConversationContext } from '../machines/conversation';
import { META_API_ERROR, type InvocationError } from '../machines/interpreter-contract';
import { PAYMENT_REFUSAL_CODE } from '../machines/meta-codes';
import { BLOCKABLE_STAGES, stageOf, type OnboardingContext, type Stage } from '../machines/onboarding';
import { readVerdict } from '../machines/onboarding/rules';

/** One walk of `getShortestPaths`: from the machine's initial state for an input. */
export interface Walk {
  /** `<flow>/<concern>` (onboarding) or the machine's id, for reports and tests. */
  name: string;
  input: unknown;
  /** The events worth sending in an active snapshot. */
  events: (snapshot: AnyMachineSnapshot) => AnyEventObject[];
  /** An active snapshot down to what decides what can happen next. */
  serializeState: (snapshot: AnyMachineSnapshot) => string;
}

const T0 = 1_767_225_600_000; // 2026-01-01
/** entry[].time of a lifecycle event the paths may deliver twice: a redelivery. */
const REDELIVERED_TIME = T0 / 1000;
const DAY = 86_400_000;

/** Each event type the active state nodes (and their ancestors) have a transition for, in its variants. */
const listened =
  (variants: (type: string, snapshot: AnyMachineSnapshot) => AnyEventObject[] | undefined) =>
  (snapshot: AnyMachineSnapshot): AnyEventObject[] => {
    const types = new Set(getNextTransitions(snapshot).flatMap((t) => (t.eventType ? [t.eventType] : [])));
    return [...types].flatMap((type) => variants(type, snapshot) ?? [{ type }]);
  };

const metaError = (code: number, nonRetryable = true): InvocationError => ({
  message: `Meta said ${code}`,
  type: META_API_ERROR,
  nonRetryable,
  details: { code, httpStatus: 400 },
});
const failures: InvocationError[] = [metaError(190), metaError(100), { message: 'socket hang up', nonRetryable: false }];

/** `xstate.done.actor.<id>` with each listed output, `xstate.error.actor.<id>` with each failure. */
function actorEvents(type: string, outputs: Record<string, unknown[]>): AnyEventObject[] | undefined {
  const done = /^xstate\.done\.actor\.(.+)$/.exec(type);
  if (done) return (outputs[done[1]!] ?? [undefined]).map((output) => ({ type, output }));
  if (/^xstate\.error\.actor\./.test(type)) return failures.map((error) => ({ type, error }));
  return undefined;
}

// --- onboarding -----------------------------------------------------------------------------------

const onboardingOutputs: Record<string, unknown[]> = {
  exchangeSignupCode: [{ sealedToken: 'sealed:v1:generated' }],
  lookupPhoneNumber: [
    { phoneNumberId: '106540352242922', displayPhoneNumber: '+1 555-010-0001', isOnBizApp: true, platformType: 'CLOUD_API' },
    { phoneNumberId: '106540352242922', displayPhoneNumber: '+1 555-010-0001', isOnBizApp: false },
    { found: false, listed: ['+1 555-010-0009'] },
  ],
  subscribeApp: [undefined],
  checkRegistration: [
    { isOnBizApp: true, platformType: 'CLOUD_API', status: 'CONNECTED' },
    { isOnBizApp: true, platformType: 'NOT_APPLICABLE', status: 'PENDING' },
  ],
  requestContactsSync: [{ requestId: 'r1' }],
  requestHistorySync: [{ requestId: 'r2' }],
  checkPaymentMethod: [
    { canSendMessage: 'AVAILABLE', paymentMissing: false, errorCodes: [] },
    { canSendMessage: 'LIMITED', paymentMissing: true, errorCodes: [141006] },
  ],
  fetchStatusCard: [
    {
      displayName: 'Jasper’s Market',
      qualityRating: 'GREEN',
      messagingLimitTier: 'TIER_250',
      throughput: 'STANDARD',
      canSendMessage: 'AVAILABLE',
    },
    // Meta's read of the number: on both, or off the Cloud API.
    { status: 'CONNECTED', isOnBizApp: true, platformType: 'CLOUD_API', canSendMessage: 'AVAILABLE' },
    { status: 'DISCONNECTED', isOnBizApp: false, platformType: 'NOT_APPLICABLE', canSendMessage: 'BLOCKED' },
  ],
};

/** A lifecycle time (seconds) newer than every one the onboarding has seen. */
function newerLifecycleTime(c: OnboardingContext): number {
  return (
    1 +
    Math.max(
      REDELIVERED_TIME,
      c.lastLifecycleEventTime,
      ...Object.values(c.lifecycleFence),
      ...c.lifecycleEvents.map((e) => e.time),
    )
  );
}

const onboardingVariants = (type: string, snapshot: AnyMachineSnapshot): AnyEventObject[] | undefined => {
  const c = snapshot.context as OnboardingContext;
  const at = T0;
  const eventTime = newerLifecycleTime(c);
  switch (type) {
    case 'prerequisites.report':
      return [
        { type, appVersion: '2.25.1', hasBusinessPortfolio: true, connectedElsewhere: false, at },
        { type, appVersion: '2.24.9', hasBusinessPortfolio: true, connectedElsewhere: false, at },
        { type, appVersion: '2.25.1', hasBusinessPortfolio: false, connectedElsewhere: false, at },
        { type, appVersion: '2.25.1', hasBusinessPortfolio: true, connectedElsewhere: true, at },
      ];
    case 'signup.finished':
      return [{ type, wabaId: '102290129340398', code: 'code-generated', at }];
    case 'signup.cancelled':
      return [
        { type, currentStep: 'PHONE_NUMBER_SETUP', at },
        { type, currentStep: 'PHONE_NUMBER_VERIFICATION', at },
        { type, errorCode: '3441049', errorMessage: 'connected to another provider', sessionId: 's', at },
      ];
    case 'linking.confirmed':
      return [{ type, method: 'qr', at }];
    case 'linking.refresh':
      return [{ type }];
    case 'registration.confirmed':
      return [{ type, isOnBizApp: true, platformType: 'CLOUD_API', at }];
    case 'history.progress':
      return [
        { type, progress: 40, phase: 0, chunkOrder: 1, at },
        { type, progress: 100, phase: 2, chunkOrder: 3, at },
      ];
    case 'history.declined':
    case 'payment.added':
      return [{ type, at }];
    case 'send.refused':
      return [131042, 368, 190].map((code) => ({ type, code, at }));
    case 'signup.started':
      return [{ type, at }];
    case 'account.update':
      return [
        ...['PARTNER_REMOVED', 'ACCOUNT_OFFBOARDED', 'ACCOUNT_RECONNECTED', 'VERIFIED_ACCOUNT'].map((event) => ({
          type,
          event,
          eventTime,
          ...(event === 'PARTNER_REMOVED' ? { reason: 'PRIMARY_INACTIVITY' } : {}),
        })),
        // No entry[].time (received then), one at a fixed time (a redelivery repeats it), an enforcement.
        { type, event: 'PARTNER_REMOVED', receivedAt: eventTime * 1000 },
        { type, event: 'ACCOUNT_RECONNECTED', eventTime: REDELIVERED_TIME },
        { type, event: 'ACCOUNT_RESTRICTION', eventTime, detail: '[{"restriction_type":"RESTRICTED_BIZ_INITIATED_MESSAGING"}]' },
      ];
    case 'account.qualityUpdate':
      return [{ type, event: 'UPGRADE', messagingLimitTier: 'TIER_1K', eventTime }];
    case 'account.nameUpdate':
      return [{ type, decision: 'APPROVED', requestedVerifiedName: 'Jasper’s Market', eventTime }];
    case 'retry':
    case 'cancel':
    case 'statusCard.refresh':
      return [{ type, by: 'generated' }];
    case 'reset':
      return BLOCKABLE_STAGES.map((to) => ({ type, to, by: 'generated' }));
  }
  return actorEvents(type, onboardingOutputs);
};

/**
 * From sync on, where the number is connected and webhooks arrive in any order, the onboarding is
 * walked once per concern: each walk offers there the outside events (and timers) of its concern
 * only, and every listened event in the stages before. Each concern is walked with the others
 * quiet; together the walks reach every transition (the coverage test checks it).
 */
type Concern = 'history' | 'reads' | 'refusals' | 'lifecycle';
const CONNECTED: readonly Stage[] = ['sync', 'payment', 'active', 'offboarded'];
/** By concern, the event types it owns; a history timer is `xstate.after.history…`. */
const CONCERNS: Record<Concern, (type: string) => boolean> = {
  history: (type) => ['history.progress', 'history.declined'].includes(type) || type.startsWith('xstate.after.history'),
  reads: (type) => ['statusCard.refresh', 'account.qualityUpdate', 'account.nameUpdate', 'signup.finished'].includes(type),
  refusals: (type) => type === 'send.refused',
  lifecycle: (type) => type === 'account.update',
};
const ownedByAConcern = (type: string) => Object.values(CONCERNS).some((owns) => owns(type));
/**
 * Offboarded by a lifecycle event that a new signup does not undo (ACCOUNT_OFFBOARDED), the number
 * is still read, renamed and re-authorised: the lifecycle walk offers those events there.
 */
const OFFBOARDED_REPAIRS = ['account.qualityUpdate', 'account.nameUpdate', 'signup.finished'];

const concernEvents =
  (concern: Concern) =>
  (snapshot: AnyMachineSnapshot): AnyEventObject[] => {
    const events = listened(onboardingVariants)(snapshot);
    const stage = stageOf(snapshot);
    if (!CONNECTED.includes(stage)) return events;
    const c = snapshot.context as OnboardingContext;
    const repairs = concern === 'lifecycle' && stage === 'offboarded' && c.offboarding?.event !== 'PARTNER_REMOVED';
    return events.filter(
      ({ type }) => !ownedByAConcern(type) || CONCERNS[concern](type) || (repairs && OFFBOARDED_REPAIRS.includes(type)),
    );
  };

// What the guards read in each stage, and in the stages it leads to before a new signup resets it.
const lifecycleFacts = (c: OnboardingContext) => [
  c.pendingLifecycle?.event,
  c.offboarding?.event,
  c.lifecycleEvents.some((e) => e.time === REDELIVERED_TIME),
];
const connectedFacts = (c: OnboardingContext) => [
  ...lifecycleFacts(c),
  c.payment.missing !== false,
  c.sendingState.reason === 'payment_missing',
  c.announcedSendingBlock,
  c.unresolvedSendErrors.includes(PAYMENT_REFUSAL_CODE),
  c.cardReadRequested === true,
  c.statusCard.lastError === undefined ? readVerdict(c.statusCard) : 'unknown',
];
const stageFacts: Record<Stage, (c: OnboardingContext) => unknown[]> = {
  prerequisites: () => [],
  signup: () => [],
  linking: (c) => [c.linkingAttempts < c.settings.maxLinkingAttempts],
  registration: (c) => [c.syncWindowClosed],
  blocked: (c) => [
    c.blocked?.stage,
    c.blocked?.reason,
    c.wabaId !== undefined && c.phoneNumberId !== undefined && c.sealedToken !== undefined,
  ],
  sync: (c) => [...lifecycleFacts(c), c.contactsSync.status, c.historySync.status, c.syncWindowClosed],
  payment: connectedFacts,
  active: connectedFacts,
  offboarded: connectedFacts,
  cancelled: () => [],
};

/**
 * The state value and the stage's facts. Only the history walk tells apart where history stands
 * (its region and status); the others leave it out.
 */
const concernState =
  (concern: Concern) =>
  (snapshot: AnyMachineSnapshot): string => {
    const c = snapshot.context as OnboardingContext;
    const stage = stageOf(snapshot);
    const regions: unknown = typeof snapshot.value === 'string' ? undefined : snapshot.value[stage];
    const history = concern === 'history' && CONNECTED.includes(stage);
    const value = history || typeof regions !== 'object' ? snapshot.value : { [stage]: { ...regions, history: undefined } };
    return JSON.stringify([value, c.flow, ...stageFacts[stage](c), ...(history ? [c.history.status] : [])]);
  };

/**
 * Two linking attempts: the last attempt's lapse is two steps away. Both flows: onboardings started
 * before the signup session still run (and replay) the legacy one; its walks are small and come first.
 */
const onboardingInputs = (['legacy', 'session'] as const).map((flow) => ({
  phoneNumber: '+15550100001',
  flow,
  settings: { maxLinkingAttempts: 2 },
}));

export const onboardingWalks: Walk[] = onboardingInputs.flatMap((input) =>
  (Object.keys(CONCERNS) as Concern[]).map((concern) => ({
    name: `${input.flow}/${concern}`,
    input,
    events: concernEvents(concern),
    serializeState: concernState(concern),
  })),
);

// --- conversation ---------------------------------------------------------------------------------

const conversationVariants = (type: string, snapshot: AnyMachineSnapshot): AnyEventObject[] | undefined => {
  const { counts } = snapshot.context as ConversationContext;
  const at = T0;
  const message = (id: string, extra: object = {}) => ({
    id,
    timestamp: at,
    type: 'text',
    content: { text: { body: 'Hi' } },
    ...extra,
  });
  switch (type) {
    case 'customer.message':
      return [
        { type, message: message(`wamid.c${counts.customer}`), at },
        {
          type,
          message: message(`wamid.r${counts.customer}`, {
            referral: { source_type: 'ad', source_id: 'ad-1', source_url: 'https://fb.me/x' },
          }),
          at,
        },
        // A redelivery older than the window: recorded, opens nothing.
        { type, message: message(`wamid.old${counts.customer}`, { timestamp: at - 2 * DAY }), at },
      ];
    case 'business.echo':
      return [{ type, message: message(`wamid.e${counts.echoes}`), at }];
    case 'history.message':
      return [{ type, message: { ...message(`wamid.h${counts.history}`), fromBusiness: false }, at }];
    case 'message.status':
      return [
        { type, status: { wamid: 'wamid.out1', status: 'delivered', timestamp: at }, at },
        ...[
          { code: 131047, title: 'Re-engagement message' },
          { code: 131026, title: 'Message undeliverable' },
        ].map((error) => ({ type, status: { wamid: 'wamid.out1', status: 'failed', timestamp: at, errors: [error] }, at })),
      ];
    case 'send':
      return [
        { type, clientMessageId: `m${counts.platform}`, message: { type: 'text', text: { body: 'Hello' } }, at },
        {
          type,
          clientMessageId: `t${counts.platform}`,
          message: { type: 'template', template: { name: 'hello_world', language: 'en_US' } },
          at,
        },
      ];
    case 'send.accepted':
      return [{ type, clientMessageId: 'm1', wamid: 'wamid.out1', at }];
    case 'send.failed':
      return [
        { type, clientMessageId: 'm1', code: 131047, title: 'Re-engagement message', at },
        { type, clientMessageId: 'm1', code: 131026, title: 'Message undeliverable', at },
      ];
    case 'send.unconfirmed':
      return [{ type, clientMessageId: 'm1', at }];
    case 'inbox.close':
      return [{ type, at, by: 'generated' }];
    case 'customerServiceWindow.check':
      return [
        { type, scheduledFor: at + 2 * DAY },
        { type, scheduledFor: at - DAY },
      ];
  }
  return undefined;
};

export const conversationWalks: Walk[] = [
  {
    name: 'conversation',
    input: { phoneNumberId: '106540352242922', waId: '16505551234' },
    events: listened(conversationVariants),
    serializeState: ({ value }) => JSON.stringify(value),
  },
];
