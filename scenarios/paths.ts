/**
 * Generated paths: a breadth-first walk over XState's public microsteps from each input (both
 * onboarding flows), trying in every state each event the active state nodes listen for
 * (`getNextTransitions`), in the variants of the catalog below (the outcomes an activity can have,
 * the guards' cases); snapshots that differ only in what no guard reads are one vertex. The first
 * (shortest) event sequence that takes a transition no scenario took is kept; each is played again
 * from the start on a fresh driver and must take its transition there too. Whatever no path reaches
 * stays missing, and the coverage test fails.
 */
import { getNextTransitions, type AnyEventObject, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import { conversationMachine } from '../machines/conversation';
import { META_API_ERROR, type InvocationError } from '../machines/interpreter-contract';
import { onboardingMachine, type OnboardingContext } from '../machines/onboarding';
import { Coverage, transitionKey } from './coverage';
import { effectsOf } from './effects';
import { MachineDriver, microstepsOf } from './machine-driver';

const T0 = 1_767_225_600_000; // 2026-01-01
/** entry[].time of a lifecycle event the walk may deliver twice: a redelivery. */
const REDELIVERED_TIME = 1_767_225_600;
const DAY = 86_400_000;

/** Variants of an event, given how long the path is so far (times move forward along a path). */
type Catalog = (type: string, step: number) => AnyEventObject[] | undefined;

const metaError = (code: number, nonRetryable = true): InvocationError => ({
  message: `Meta said ${code}`,
  type: META_API_ERROR,
  nonRetryable,
  details: { code, httpStatus: 400 },
});
const failures: InvocationError[] = [metaError(190), metaError(100), { message: 'socket hang up', nonRetryable: false }];

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

const onboardingCatalog: Catalog = (type, step) => {
  const at = T0 + step * 1_000;
  const eventTime = 1_767_225_600 + step;
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
        { type, event: 'PARTNER_REMOVED', receivedAt: at },
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
      return (['prerequisites', 'signup', 'linking', 'registration'] as const).map((to) => ({ type, to, by: 'generated' }));
  }
  return actorEvents(type, onboardingOutputs);
};

const conversationCatalog: Catalog = (type, step) => {
  const at = T0 + step * 60_000;
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
        { type, message: message(`wamid.c${step}`), at },
        {
          type,
          message: message(`wamid.r${step}`, {
            referral: { source_type: 'ad', source_id: 'ad-1', source_url: 'https://fb.me/x' },
          }),
          at,
        },
        // A redelivery older than the window: recorded, opens nothing.
        { type, message: message(`wamid.old${step}`, { timestamp: at - 2 * DAY }), at },
      ];
    case 'business.echo':
      return [{ type, message: message(`wamid.e${step}`), at }];
    case 'history.message':
      return [{ type, message: { ...message(`wamid.h${step}`), fromBusiness: false }, at }];
    case 'message.status':
      return [
        { type, status: { wamid: 'wamid.out1', status: 'delivered', timestamp: at }, at },
        {
          type,
          status: {
            wamid: 'wamid.out1',
            status: 'failed',
            timestamp: at,
            errors: [{ code: 131047, title: 'Re-engagement message' }],
          },
          at,
        },
        {
          type,
          status: {
            wamid: 'wamid.out1',
            status: 'failed',
            timestamp: at,
            errors: [{ code: 131026, title: 'Message undeliverable' }],
          },
          at,
        },
      ];
    case 'send':
      return [
        { type, clientMessageId: `m${step}`, message: { type: 'text', text: { body: 'Hello' } }, at },
        {
          type,
          clientMessageId: `t${step}`,
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

/** `xstate.done.actor.<id>` with each catalogued output, `xstate.error.actor.<id>` with each failure. */
function actorEvents(type: string, outputs: Record<string, unknown[]>): AnyEventObject[] | undefined {
  const done = /^xstate\.done\.actor\.(.+)$/.exec(type);
  if (done) return (outputs[done[1]!] ?? [undefined]).map((output) => ({ type, output }));
  if (/^xstate\.error\.actor\./.test(type)) return failures.map((error) => ({ type, error }));
  return undefined;
}

/**
 * What of a snapshot the walk tells apart: the state and what the guards read. Two snapshots that
 * differ only elsewhere (times, texts, counters no guard reads) are one node of the walk.
 */
type Abstraction = (snapshot: AnyMachineSnapshot) => unknown;

const onboardingAbstraction: Abstraction = ({ value, context }) => {
  const c = context as OnboardingContext;
  return [
    value,
    c.linkingAttempts < c.settings.maxLinkingAttempts,
    c.contactsSync.status,
    c.historySync.status,
    c.history.status,
    c.payment.missing,
    c.sendingState,
    [...new Set(c.unresolvedSendErrors)].sort(),
    c.offboarding?.event,
    c.blocked && [c.blocked.stage, c.blocked.reason],
    c.sealedToken !== undefined,
    c.flow,
    c.pendingLifecycle?.event,
    c.lifecycleEvents.some((e) => e.time === REDELIVERED_TIME),
    c.syncWindowClosed,
    c.cardReadRequested,
    c.statusCard.lastError !== undefined,
  ];
};

const conversationAbstraction: Abstraction = ({ value }) => value;

const models = new Map<AnyStateMachine, { inputs: unknown[]; catalog: Catalog; abstraction: Abstraction }>([
  // Two linking attempts: the last attempt's lapse is two steps away. Both flows: onboardings started
  // before the signup session still run (and replay) the legacy one.
  [
    onboardingMachine,
    {
      inputs: (['session', 'legacy'] as const).map((flow) => ({
        phoneNumber: '+15550100001',
        flow,
        settings: { maxLinkingAttempts: 2 },
      })),
      catalog: onboardingCatalog,
      abstraction: onboardingAbstraction,
    },
  ],
  [
    conversationMachine,
    {
      inputs: [{ phoneNumberId: '106540352242922', waId: '16505551234' }],
      catalog: conversationCatalog,
      abstraction: conversationAbstraction,
    },
  ],
]);

/** The traversal's bound: a machine whose abstraction explodes fails loudly instead of running on. */
const MAX_STATES = 20_000;
/** Events along one generated path at most. */
const MAX_DEPTH = 40;

export interface GeneratedPath {
  /** The transition this path was kept for. */
  covers: string;
  events: AnyEventObject[];
}

/**
 * Coverage of `byScenarios` plus what generated paths reach; the paths kept are replayed from the
 * initial state and must take the transition they were kept for.
 */
export function coverByGeneratedPaths(machine: AnyStateMachine, byScenarios: Coverage): Coverage & { paths: GeneratedPath[] } {
  const model = models.get(machine);
  if (!model) throw new Error(`no event catalog for machine ${machine.id}`);
  const coverage = Object.assign(new Coverage(byScenarios.model).merge(byScenarios), { paths: [] as GeneratedPath[] });
  for (const input of model.inputs) walk(machine, input, model, coverage);
  return coverage;
}

/**
 * Breadth-first from one input over XState's public microsteps, keeping the first (shortest) path
 * to each transition not yet covered, and stopping as soon as everything is covered. (xstate/graph's
 * `getAdjacencyMap` builds the whole abstract graph before anything can be read: with both
 * onboarding flows that graph did not finish in minutes.)
 */
function walk(
  machine: AnyStateMachine,
  input: unknown,
  model: { catalog: Catalog; abstraction: Abstraction },
  coverage: Coverage & { paths: GeneratedPath[] },
): void {
  if (complete(coverage)) return;
  const stateKey = (snapshot: AnyMachineSnapshot) => JSON.stringify(model.abstraction(snapshot));
  const initial = new MachineDriver(machine, input, { record: true });
  coverage.recordSnapshot(initial.snapshot);
  for (const s of initial.last.microsteps) coverage.recordSnapshot(s);

  const seen = new Set<string>([stateKey(initial.snapshot)]);
  let frontier: { snapshot: AnyMachineSnapshot; events: AnyEventObject[] }[] = [{ snapshot: initial.snapshot, events: [] }];
  for (let depth = 0; depth < MAX_DEPTH && frontier.length > 0 && !complete(coverage); depth++) {
    const next: typeof frontier = [];
    for (const { snapshot, events } of frontier) {
      for (const event of candidateEvents(snapshot, model.catalog, events.length + 1)) {
        const { taken, microsteps, byMicrostep } = microstepsOf(machine, snapshot, event);
        const after = microsteps.at(-1) ?? snapshot;
        if (after.status === 'error')
          throw new Error(`machine error on ${event.type} after ${events.map((e) => e.type).join(' → ')}`);
        for (const m of byMicrostep)
          for (const t of m.taken) for (const e of effectsOf(m.actions)) coverage.recordEffect(transitionKey(t), e.name);
        const path = [...events, event];
        for (const key of taken.map(transitionKey)) {
          if (coverage.transitions.has(key)) continue;
          if (!replayTakes(machine, input, path, key))
            throw new Error(`generated path for ${key} does not take it when replayed`);
          coverage.recordTransition(key);
          coverage.paths.push({ covers: key, events: path });
        }
        for (const s of microsteps) coverage.recordSnapshot(s);
        const key = stateKey(after);
        if (after.status === 'active' && !seen.has(key) && seen.size < MAX_STATES) {
          seen.add(key);
          next.push({ snapshot: after, events: path });
        }
      }
    }
    frontier = next;
  }
}

function complete(c: Coverage): boolean {
  const m = c.missing();
  return m.states.length === 0 && m.transitions.length === 0;
}

/** The events the active state nodes (and their ancestors) have transitions for. */
function candidateEvents(snapshot: AnyMachineSnapshot, catalog: Catalog, step: number): AnyEventObject[] {
  const types = new Set(getNextTransitions(snapshot).flatMap((t) => (t.eventType ? [t.eventType] : [])));
  return [...types].flatMap((type) => catalog(type, step) ?? [{ type }]);
}

function replayTakes(machine: AnyStateMachine, input: unknown, events: AnyEventObject[], key: string): boolean {
  const driver = new MachineDriver(machine, input, { record: true });
  let taken: string[] = [];
  for (const event of events) taken = driver.send(event).taken.map(transitionKey);
  return taken.includes(key);
}
