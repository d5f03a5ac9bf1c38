/**
 * Coexistence onboarding: a number live in the WhatsApp Business app, connected to the Cloud API
 * and kept working in both.
 *
 *   prerequisites → signup → linking → registration → sync → payment → active
 *   blocked (reason + remedy; retry / reset) · cancelled (final) · offboarded (→ active on reconnect)
 *
 * Pure: Meta calls are invoked actors and backend callbacks are named actions, both run as
 * activities by the durable interpreter (./effects). Timers are named `after` delays. Tokens exist
 * here only sealed. Times: backend events carry `at` (epoch ms); Meta lifecycle webhooks carry
 * `eventTime`, Meta's `entry[].time` in Unix **seconds**, as delivered.
 *
 * sync, payment, active and offboarded each run a `history` region beside their own work: chat
 * history arrives for hours after the stage that requested it. Its silence / stall timers are
 * re-armed when the stage changes, so a verdict can come later than the setting, never earlier.
 */
import { and, assertEvent, assign, cancel, fromPromise, not, raise, setup, type DoneActorEvent, type SnapshotFrom } from 'xstate';
import { metaErrorCode, runsAsActivity } from '../interpreter-contract';
import {
  exchangeErrorReason,
  isAuthorizationErrorCode,
  isSendingBlockCode,
  PAYMENT_REFUSAL_CODE,
  signupErrorReason,
} from '../meta-codes';
import type { BlockParams, HistoryStatus, OnboardingContext, StatusCard } from './context';
import type { FetchStatusCardOutput, LookupPhoneNumberOutput, OnboardingEffects, SyncType } from './effects';
import type { OnboardingEvent } from './events';
import { compact } from '../plain';
import {
  blockedNotice,
  historyOutcomeNotice,
  linkingLapsedNotice,
  paymentRequiredNotice,
  sendingStateNotice,
  syncFailedNotice,
} from './notices';
import { BLOCKED_REASONS, offboardingRemedy, remedyFor, WARNINGS, type BlockedReason } from './remedies';
import {
  ENFORCEMENTS,
  isEnforcement,
  isRepeatedLifecycleEvent,
  offboardingOf,
  readVerdict,
  recordLifecycle,
  syncWindowPassed,
  blockedByGraphError,
  DISCONNECTIONS,
  errorMessage,
  freshOnboarding,
  isAppVersionSupported,
  isOnCloudApiAndApp,
  need,
  normaliseTier,
  paymentChecked,
  RECONNECTION,
  registrationChecked,
  sendingStateOf,
  syncFailure,
  tokenOf,
  withSendingState,
} from './rules';
import { DEFAULT_ONBOARDING_SETTINGS, type OnboardingInput } from './settings';
import type { BlockableStage, Stage } from './stages';

type Effect<K extends keyof OnboardingEffects> = OnboardingEffects[K];

/** An invoked actor that the durable interpreter runs as the activity of the same name. */
const activity = <K extends keyof OnboardingEffects>(name: K) =>
  fromPromise<Awaited<ReturnType<Effect<K>>>, Parameters<Effect<K>>[0]>(async () => runsAsActivity(name));

const HISTORY_SETTLED: HistoryStatus[] = ['complete', 'declined'];

// --- named fragments ------------------------------------------------------------------------------

const notifyHistoryOutcome = {
  type: 'notifyBackend',
  params: ({ context }: { context: OnboardingContext }) => historyOutcomeNotice(context),
} as const;

const notifyBlocked = {
  type: 'notifyBackend',
  params: ({ context }: { context: OnboardingContext }) => blockedNotice(context),
} as const;

const notifySendingState = {
  type: 'notifyBackend',
  params: ({ context }: { context: OnboardingContext }) => sendingStateNotice(context),
} as const;

/** Sending-state reasons the backend is told of by a `sendingState` notice (others have notices of their own). */
const ANNOUNCED_SENDING_BLOCKS: readonly string[] = [
  'reauthorization_required',
  'permission_missing',
  ...Object.values(ENFORCEMENTS),
];

/** History stopped short of complete: the verdict is recorded and the backend told. */
const historyVerdict = (status: 'not_received' | 'incomplete') =>
  ({ target: 'idle', actions: [{ type: 'markHistory', params: { status } }, notifyHistoryOutcome] }) as const;

/**
 * Follows chat history once requested: silence → not received, stall → incomplete, progress 100
 * → complete, 2593109 → declined. Late chunks after a silence or stall verdict are still recorded
 * and revive it; after complete or declined they are only recorded.
 */
const historyEvents = {
  'history.progress': [
    { guard: 'historySettled', actions: 'recordHistoryChunk' },
    { guard: 'historyChunkCompletes', target: '.idle', actions: ['recordHistoryChunk', notifyHistoryOutcome] },
    { target: '.receiving', actions: 'recordHistoryChunk' },
  ],
  'history.declined': { guard: not('historySettled'), target: '.idle', actions: ['recordHistoryDeclined', notifyHistoryOutcome] },
} as const;

const historyReceiving = { after: { historyStall: historyVerdict('incomplete') } } as const;

/** Nothing to time: not requested, complete, declined, not received or incomplete. */
const historyIdle = {} as const;

/** History in a stage entered while it may be on its way (payment, active, offboarded). */
const historyTracking = {
  initial: 'resuming',
  on: historyEvents,
  states: {
    // Re-entered with the stage: picks up where the history stands.
    resuming: {
      always: [
        { guard: { type: 'historyIs', params: { status: 'awaiting' } }, target: 'awaitingFirstChunk' },
        { guard: { type: 'historyIs', params: { status: 'receiving' } }, target: 'receiving' },
        { target: 'idle' },
      ],
    },
    awaitingFirstChunk: { after: { historySilence: historyVerdict('not_received') } },
    receiving: historyReceiving,
    idle: historyIdle,
  },
} as const;

/**
 * History in sync, which asks for it as its last step and is always entered before (signup starts
 * every onboarding afresh): nothing to resume; only a chunk that outruns the request's answer.
 */
const historyBeforeRequest = {
  initial: 'idle',
  on: historyEvents,
  states: { receiving: historyReceiving, idle: historyIdle },
} as const;

/** A newer lifecycle event (account_update) is recorded; older or repeated ones are stale (legacy flow). */
const recordNewerLifecycleEvent = { guard: 'isNewerLifecycleEvent', actions: 'recordLifecycleEvent' } as const;

/**
 * Session flow, where the number is connected or offboarded: the event is recorded, then the
 * number is re-read from Meta (the statusCard region), and the read decides; a repeat is ignored.
 * An enforcement also tells the backend the sending state it sets.
 */
const lifecycleReadsMeta = [
  { guard: and(['isSessionFlow', 'isRepeatedLifecycleEvent']) },
  { guard: 'isSessionFlow', target: '.refreshing', actions: 'recordLifecycleEvent' },
] as const;

/** Session flow, in payment and offboarded: webhooks and requests that re-read the card. */
const sessionCardRefreshes = {
  'statusCard.refresh': { guard: 'isSessionFlow', target: '.refreshing' },
  'account.qualityUpdate': { guard: 'isSessionFlow', target: '.refreshing', actions: 'recordQualityUpdate' },
  'account.nameUpdate': { guard: 'isSessionFlow', target: '.refreshing', actions: 'recordNameUpdate' },
  'send.refused': { guard: and(['isSessionFlow', 'isSendingBlockRefusal']), target: '.refreshing', actions: 'recordSendRefusal' },
} as const;

/** Session flow: CANCEL in a signup session, with Meta's error code, at the phone step, or anywhere else. */
const signupCancelled = [
  {
    guard: 'signupReportedError',
    target: '#onboarding.blocked',
    actions: {
      type: 'block',
      params: ({ event }: { event: OnboardingEvent }) => {
        assertEvent(event, 'signup.cancelled');
        const code = Number(event.errorCode);
        const detail = event.errorMessage ?? (Number.isFinite(code) ? undefined : `error_code ${event.errorCode}`);
        return {
          stage: 'signup' as const,
          reason: signupErrorReason(code),
          ...(Number.isFinite(code) ? { code } : {}),
          ...(detail !== undefined ? { detail } : {}),
        };
      },
    },
  },
  {
    guard: and(['isSessionFlow', 'isPhoneStepCancel']),
    target: '#onboarding.blocked',
    actions: {
      type: 'block',
      params: { stage: 'linking' as const, reason: 'phone_verification_abandoned' as const, detail: 'PHONE_NUMBER_VERIFICATION' },
    },
  },
  {
    target: '#onboarding.blocked',
    actions: {
      type: 'block',
      params: ({ event }: { event: OnboardingEvent }) => {
        assertEvent(event, 'signup.cancelled');
        return {
          stage: 'signup' as const,
          reason: 'signup_abandoned' as const,
          ...(event.currentStep !== undefined ? { detail: event.currentStep } : {}),
        };
      },
    },
  },
] as const;

/** Meta's sync window, timed from FINISH; a new FINISH (a new onboarding) starts it again. */
const scheduleSyncWindow = ['cancelSyncWindow', 'scheduleSyncWindow'] as const;

/** Session flow: FINISH proves the phone scanned the code; registration starts with the code exchange. */
const finishSignupSession = {
  guard: 'isSessionFlow',
  target: '#onboarding.registration.exchangingCode',
  actions: ['recordSignupFinished', ...scheduleSyncWindow],
} as const;

/** Session flow: the popup opened (again): a new signup session, linking from its start. */
const startSignupSession = { guard: 'isSessionFlow', target: '#onboarding.linking', actions: 'recordSignupStarted' } as const;

/** After a read, from offboarded: back when Meta shows the number on both again. */
const reconnectionDecisions = [
  { guard: and(['decidesConnected', 'paymentNotConfirmed']), target: '#onboarding.payment', actions: 'reconnectByRead' },
  { guard: 'decidesConnected', target: '#onboarding.active', actions: 'reconnectByRead' },
  { target: 'scheduled', actions: 'clearPendingLifecycle' },
] as const;

/** After a read, from payment or active: offboarded when Meta shows the number off the API. */
const disconnectionDecisions = [
  { guard: 'decidesDisconnected', target: '#onboarding.offboarded', actions: 'offboardByRead' },
  { target: 'scheduled', actions: 'clearPendingLifecycle' },
] as const;

/**
 * The number's state read from Meta (GET /<PHONE_ID>): the status card and, in the session flow,
 * the truth that lifecycle events, enforcement and lost access are decided by. Legacy flow: only
 * active reads it (on entry and on demand), and nothing is decided from the read.
 */
/** Where each stage's card region starts: active reads at once; payment reads a change still to decide (one received during sync). */
const cardStarts = {
  active: [{ target: 'refreshing' }],
  payment: [
    { guard: and(['isSessionFlow', 'hasPendingLifecycle']), target: 'refreshing' },
    { guard: 'isSessionFlow', target: 'scheduled' },
    { target: 'idle' },
  ],
  offboarded: [{ guard: 'isSessionFlow', target: 'scheduled' }, { target: 'idle' }],
} as const;

/** A read's answer: only active reads the card in the legacy flow, and decides nothing from it. */
const cardReadDone = {
  withLegacy: [
    { guard: 'isSessionFlow', target: 'deciding', actions: 'recordStatusCard' },
    { target: 'idle', actions: 'recordStatusCard' },
  ],
  sessionOnly: [{ target: 'deciding', actions: 'recordStatusCard' }],
} as const;
const cardReadFailed = {
  withLegacy: [
    { guard: 'isSessionFlow', target: 'deciding', actions: 'recordStatusCardFailure' },
    { target: 'idle', actions: 'recordStatusCardFailure' },
  ],
  sessionOnly: [{ target: 'deciding', actions: 'recordStatusCardFailure' }],
} as const;

const statusCardRegion = (stage: 'payment' | 'active' | 'offboarded') => {
  const decisions = stage === 'offboarded' ? reconnectionDecisions : disconnectionDecisions;
  const reads = stage === 'active' ? 'withLegacy' : 'sessionOnly';
  return {
    initial: 'start',
    // The region's own transitions: the stage's other regions (history) are not re-entered.
    on:
      stage === 'active'
        ? { 'account.update': lifecycleReadsMeta }
        : { 'account.update': lifecycleReadsMeta, ...sessionCardRefreshes },
    states: {
      start: { always: cardStarts[stage] },
      refreshing: {
        invoke: {
          id: 'fetchStatusCard',
          src: 'fetchStatusCard',
          input: ({ context }: { context: OnboardingContext }) => ({
            phoneNumberId: need(context.phoneNumberId, 'phoneNumberId'),
            sealedToken: tokenOf(context),
          }),
          onDone: cardReadDone[reads],
          onError: cardReadFailed[reads],
        },
      },
      // Session flow: the backend hears of a changed enforcement / access state, then the read decides.
      deciding: {
        always: [{ guard: 'sendingStateUnannounced', actions: ['announceSendingState', notifySendingState] }, ...decisions],
      },
      // Session flow: re-read on the card's schedule, or at once when a repair asks for it.
      scheduled: {
        always: { guard: 'cardReadRequested', target: 'refreshing', actions: 'clearCardReadRequest' },
        after: { statusCardRefresh: 'refreshing' },
      },
      idle: {},
    },
  } as const;
};

/**
 * Session flow: a new Embedded Signup code while connected or offboarded is a re-authorisation:
 * exchanged and sealed without starting over, then the number is read again.
 */
const reauthorizationRegion = {
  initial: 'idle',
  on: { 'signup.finished': { guard: and(['isSessionFlow', not('canReonboard')]), target: '.exchanging' } },
  states: {
    idle: {},
    exchanging: {
      invoke: {
        id: 'exchangeSignupCode',
        src: 'exchangeSignupCode',
        input: ({ event }: { event: OnboardingEvent }) => {
          assertEvent(event, 'signup.finished');
          return { code: event.code };
        },
        onDone: { target: 'idle', actions: 'recordReauthorized' },
        onError: { target: 'idle', actions: 'recordStatusCardFailure' },
      },
    },
  },
} as const;

/** From payment or active: a disconnection offboards the number. */
const lifecycleWhileConnected = [
  { guard: and(['isNewerLifecycleEvent', 'isDisconnection']), target: 'offboarded', actions: 'recordLifecycleEvent' },
  recordNewerLifecycleEvent,
] as const;

/** Quality and name webhooks update the card where no refresh of it is running. */
const statusCardUpdates = {
  'account.qualityUpdate': { actions: 'recordQualityUpdate' },
  'account.nameUpdate': { actions: 'recordNameUpdate' },
} as const;

const onboarding = setup({
  types: {
    context: {} as OnboardingContext,
    events: {} as OnboardingEvent,
    input: {} as OnboardingInput,
    output: {} as { phoneNumber: string; cancelledBy?: string },
    tags: {} as Stage,
  },
  actions: {
    startLinkingAttempt: (_, _params: Parameters<Effect<'startLinkingAttempt'>>[0]) => {},
    notifyBackend: (_, _params: Parameters<Effect<'notifyBackend'>>[0]) => {},

    block: assign((_, { stage, reason, code, detail }: BlockParams) => ({
      blocked: {
        reason,
        remedy: remedyFor(reason),
        stage,
        ...(code !== undefined ? { code } : {}),
        ...(detail !== undefined ? { detail } : {}),
      },
    })),
    clearBlocked: assign({ blocked: undefined }),

    recordPrerequisites: assign(({ event }) => {
      assertEvent(event, 'prerequisites.report');
      const { type: _type, at: _at, ...report } = event;
      return {
        prerequisites: report,
        // Set up after the connection: a warning, never a block.
        warnings:
          event.hasPaymentMethod === false
            ? [{ code: 'payment_method_missing' as const, message: WARNINGS.payment_method_missing }]
            : [],
      };
    }),

    beginSignup: assign(({ context }) => withSendingState(context, freshOnboarding(context.settings))),
    recordSignupStarted: assign(({ event }) => {
      assertEvent(event, 'signup.started');
      return { signupStartedAt: event.at };
    }),
    recordSignupFinished: assign(({ context, event }) => {
      assertEvent(event, 'signup.finished');
      const finished = { wabaId: event.wabaId, phoneNumberId: event.phoneNumberId, signupFinishedAt: event.at };
      if (context.flow === 'legacy') return finished;
      // FINISH comes once the phone has scanned: the link and Meta's 24 h sync window start now.
      return {
        ...finished,
        linkedAt: event.at,
        syncDeadline: event.at + context.settings.syncWindowMs,
        syncWindowClosed: false,
      };
    }),
    closeSyncWindow: assign({ syncWindowClosed: true }),
    cancelSyncWindow: cancel('syncWindow'),
    scheduleSyncWindow: raise({ type: 'sync.windowClosed' }, { id: 'syncWindow', delay: 'syncWindow' }),

    beginLinking: assign(({ context }) => ({ linkingAttempts: 1, linkingMethod: context.settings.linkingMethod })),
    countLinkingAttempt: assign(({ context, event }) => ({
      linkingAttempts: context.linkingAttempts + 1,
      linkingMethod: event.type === 'linking.refresh' && event.method ? event.method : context.linkingMethod,
    })),
    recordLinked: assign(({ event }) => {
      assertEvent(event, 'linking.confirmed');
      return { linkingMethod: event.method, linkedAt: event.at };
    }),

    recordRegistrationConfirmed: assign(({ context }) => ({
      registration: { ...context.registration, confirmedBy: 'webhook' as const },
    })),

    markSyncRequesting: assign((_, { syncType }: { syncType: SyncType }) =>
      syncType === 'history'
        ? { historySync: { status: 'requesting' as const } }
        : { contactsSync: { status: 'requesting' as const } },
    ),

    recordHistoryChunk: assign(({ context, event }) => {
      assertEvent(event, 'history.progress');
      const progress = Math.max(context.history.progress, Math.min(100, event.progress));
      const settled = HISTORY_SETTLED.includes(context.history.status);
      // Chunks come out of order: the position shown is the furthest seen, never moved back by a late one.
      const { phase = -1, chunkOrder = -1 } = context.history;
      const further = event.phase > phase || (event.phase === phase && event.chunkOrder > chunkOrder);
      const seen = context.history.phases?.[event.phase];
      const inPhase = { chunks: (seen?.chunks ?? 0) + 1, lastChunkOrder: Math.max(seen?.lastChunkOrder ?? -1, event.chunkOrder) };
      return {
        history: {
          ...context.history,
          status: settled ? context.history.status : progress >= 100 ? 'complete' : 'receiving',
          progress,
          chunks: context.history.chunks + 1,
          ...(further ? { phase: event.phase, chunkOrder: event.chunkOrder } : {}),
          phases: { ...context.history.phases, [event.phase]: inPhase },
          lastChunkAt: event.at,
        },
      };
    }),
    recordHistoryDeclined: assign(({ context, event }) => {
      assertEvent(event, 'history.declined');
      return { history: { ...context.history, status: 'declined' as const, declinedAt: event.at } };
    }),
    markHistory: assign(({ context }, { status }: { status: 'not_received' | 'incomplete' }) => ({
      history: { ...context.history, status },
    })),

    recordPaymentAdded: assign(({ context, event }) => {
      assertEvent(event, 'payment.added');
      // The user says the payment problem is fixed: the 131042 is no longer held against the number.
      return withSendingState(context, {
        payment: { ...context.payment, addedAt: event.at },
        unresolvedSendErrors: context.unresolvedSendErrors.filter((code) => code !== PAYMENT_REFUSAL_CODE),
      });
    }),
    recordSendRefusal: assign(({ context, event }) => {
      assertEvent(event, 'send.refused');
      if (context.unresolvedSendErrors.includes(event.code)) return {};
      return withSendingState(context, { unresolvedSendErrors: [...context.unresolvedSendErrors, event.code] });
    }),
    /**
     * An on-demand refresh re-reads Meta: its health status replaces remembered 368 / 131031
     * refusals. Lost access stays until a new authorisation (session flow).
     */
    forgetPolicyRefusals: assign(({ context }) =>
      withSendingState(context, {
        unresolvedSendErrors: context.unresolvedSendErrors.filter(
          (code) => code === PAYMENT_REFUSAL_CODE || (context.flow === 'session' && isAuthorizationErrorCode(code)),
        ),
      }),
    ),

    recordStatusCard: assign(({ context, event }) => {
      const output = (event as unknown as { output: FetchStatusCardOutput }).output;
      const statusCard: StatusCard = {
        ...context.statusCard,
        ...compact(output),
        messagingLimitTier: normaliseTier(output.messagingLimitTier ?? context.statusCard.messagingLimitTier),
        lastError: undefined,
      };
      // Session flow: Meta says the number can send, so no enforcement still holds it.
      const lifted = context.flow === 'session' && output.canSendMessage === 'AVAILABLE' && context.enforcement !== undefined;
      return withSendingState(context, { statusCard, ...(lifted ? { enforcement: undefined } : {}) });
    }),
    recordStatusCardFailure: assign(({ context, event }) => {
      const error = (event as unknown as { error: unknown }).error;
      const statusCard = { ...context.statusCard, lastError: errorMessage(error) };
      const code = metaErrorCode(error);
      // Session flow: a token or permission failure blocks sending until a new authorisation.
      if (context.flow === 'legacy' || !isAuthorizationErrorCode(code) || context.unresolvedSendErrors.includes(code!))
        return { statusCard };
      return withSendingState(context, { statusCard, unresolvedSendErrors: [...context.unresolvedSendErrors, code!] });
    }),
    recordReauthorized: assign(({ context, event }) => {
      const { sealedToken } = (event as unknown as { output: { sealedToken: string } }).output;
      return withSendingState(context, {
        sealedToken,
        unresolvedSendErrors: context.unresolvedSendErrors.filter((code) => !isAuthorizationErrorCode(code)),
        statusCard: { ...context.statusCard, lastError: undefined },
        // The repair is checked: the card is read again with the new token.
        cardReadRequested: true,
      });
    }),
    announceSendingState: assign(({ context }) => ({ announcedSendingBlock: announcedBlockOf(context) })),
    offboardByRead: assign(({ context }) =>
      withSendingState(context, {
        offboarding: offboardingOf(context.pendingLifecycle, offboardingRemedy),
        pendingLifecycle: undefined,
      }),
    ),
    reconnectByRead: assign(({ context }) => withSendingState(context, { offboarding: undefined, pendingLifecycle: undefined })),
    clearPendingLifecycle: assign({ pendingLifecycle: undefined }),
    clearCardReadRequest: assign({ cardReadRequested: false }),

    recordQualityUpdate: assign(({ context, event }) => {
      assertEvent(event, 'account.qualityUpdate');
      return {
        statusCard: {
          ...context.statusCard,
          ...(event.qualityRating !== undefined ? { qualityRating: event.qualityRating } : {}),
          ...(event.messagingLimitTier !== undefined ? { messagingLimitTier: normaliseTier(event.messagingLimitTier) } : {}),
        },
      };
    }),
    recordNameUpdate: assign(({ context, event }) => {
      assertEvent(event, 'account.nameUpdate');
      return {
        statusCard: {
          ...context.statusCard,
          nameDecision: event.decision,
          ...(event.decision === 'APPROVED' && event.requestedVerifiedName
            ? { displayName: event.requestedVerifiedName, nameStatus: 'APPROVED' }
            : {}),
        },
      };
    }),

    recordLifecycleEvent: assign(({ context, event }) => {
      assertEvent(event, 'account.update');
      if (context.flow === 'session') return recordLifecycle(context, event);
      const patch: Partial<OnboardingContext> = { lastLifecycleEventTime: event.eventTime ?? 0 };
      if (DISCONNECTIONS.includes(event.event)) {
        patch.offboarding = {
          event: event.event,
          ...(event.reason !== undefined ? { reason: event.reason } : {}),
          ...(event.initiatedBy !== undefined ? { initiatedBy: event.initiatedBy } : {}),
          eventTime: event.eventTime ?? 0,
          remedy: offboardingRemedy(event.event, event.reason),
        };
      } else if (event.event === RECONNECTION) {
        patch.offboarding = undefined;
      }
      return withSendingState(context, patch);
    }),

    recordCancellation: assign(({ event }) => {
      assertEvent(event, 'cancel');
      return { cancelledBy: event.by };
    }),
  },
  actors: {
    exchangeSignupCode: activity('exchangeSignupCode'),
    lookupPhoneNumber: activity('lookupPhoneNumber'),
    subscribeApp: activity('subscribeApp'),
    checkRegistration: activity('checkRegistration'),
    requestSync: activity('requestSync'),
    checkPaymentMethod: activity('checkPaymentMethod'),
    fetchStatusCard: activity('fetchStatusCard'),
  },
  guards: {
    appTooOld: ({ event }) => event.type === 'prerequisites.report' && !isAppVersionSupported(event.appVersion),
    lacksBusinessPortfolio: ({ event }) => event.type === 'prerequisites.report' && !event.hasBusinessPortfolio,
    connectedElsewhere: ({ event }) => event.type === 'prerequisites.report' && event.connectedElsewhere,

    isSessionFlow: ({ context }) => context.flow === 'session',
    isLegacyFlow: ({ context }) => context.flow === 'legacy',
    isPhoneStepCancel: ({ event }) => event.type === 'signup.cancelled' && event.currentStep === 'PHONE_NUMBER_VERIFICATION',
    /** Session flow: a block that a new Embedded Signup session can resolve (not the "Before you start" checks). */
    blockedBeforeConnection: ({ context }) =>
      context.flow === 'session' && context.blocked !== undefined && context.blocked.stage !== 'prerequisites',
    syncWindowClosed: ({ context }) => context.flow === 'session' && context.syncWindowClosed === true,
    hasPendingLifecycle: ({ context }) => context.pendingLifecycle !== undefined,
    cardReadRequested: ({ context }) => context.cardReadRequested === true,
    isRepeatedLifecycleEvent: ({ context, event }) => event.type === 'account.update' && isRepeatedLifecycleEvent(context, event),
    isEnforcementEvent: ({ event }) => event.type === 'account.update' && isEnforcement(event.event),
    decidesDisconnected: ({ context }) => lifecycleDecision(context) === 'disconnected',
    decidesConnected: ({ context }) => lifecycleDecision(context) === 'connected',
    sendingStateUnannounced: ({ context }) =>
      context.flow === 'session' && announcedBlockOf(context) !== context.announcedSendingBlock,

    signupReportedError: ({ event }) =>
      event.type === 'signup.cancelled' && event.errorCode !== undefined && event.errorCode !== '',

    linkingAttemptsLeft: ({ context }) => context.linkingAttempts < context.settings.maxLinkingAttempts,

    confirmationShowsCoexistence: ({ event }) =>
      event.type === 'registration.confirmed' &&
      isOnCloudApiAndApp({ isOnBizApp: event.isOnBizApp ?? true, platformType: event.platformType ?? 'CLOUD_API' }),

    syncNotAttempted: ({ context }, { syncType }: { syncType: SyncType }) =>
      (syncType === 'history' ? context.historySync : context.contactsSync).status === 'not_requested',

    historyIs: ({ context }, { status }: { status: HistoryStatus }) => context.history.status === status,
    historySettled: ({ context }) => HISTORY_SETTLED.includes(context.history.status),
    historyChunkCompletes: ({ event }) => event.type === 'history.progress' && event.progress >= 100,

    paymentAlreadyRequired: ({ context }) => context.sendingState.reason === 'payment_missing',
    paymentNotConfirmed: ({ context }) => context.payment.missing !== false,
    isPaymentRefusal: ({ event }) => event.type === 'send.refused' && event.code === PAYMENT_REFUSAL_CODE,
    isSendingBlockRefusal: ({ event }) => event.type === 'send.refused' && isSendingBlockCode(event.code),

    isNewerLifecycleEvent: ({ context, event }) =>
      context.flow === 'legacy' && event.type === 'account.update' && (event.eventTime ?? 0) > context.lastLifecycleEventTime,
    isDisconnection: ({ event }) => event.type === 'account.update' && DISCONNECTIONS.includes(event.event),
    isReconnection: ({ event }) => event.type === 'account.update' && event.event === RECONNECTION,
    isOffboarded: ({ context }) => context.offboarding !== undefined,
    /** PARTNER_REMOVED never comes back by itself: a new Embedded Signup reconnects the number. */
    canReonboard: ({ context }) => context.offboarding?.event === 'PARTNER_REMOVED',

    retryGoesTo: ({ context }, { stage }: { stage: BlockableStage }) => {
      if (!context.blocked) return false;
      const policy = BLOCKED_REASONS[context.blocked.reason].retry;
      if (policy === 'none') return false;
      return (policy === 'signup' ? 'signup' : context.blocked.stage) === stage;
    },
    canResetTo: ({ context, event }, { stage }: { stage: BlockableStage }) => {
      if (event.type !== 'reset' || event.to !== stage || !context.blocked) return false;
      // Linking and registration need what signup produced.
      return (
        stage === 'prerequisites' ||
        stage === 'signup' ||
        (context.wabaId !== undefined && context.phoneNumberId !== undefined && context.sealedToken !== undefined)
      );
    },
  },
  delays: {
    linkingAttemptTtl: ({ context }) => context.settings.linkingAttemptTtlMs,
    registrationDeadline: ({ context }) => context.settings.registrationDeadlineMs,
    registrationPollInterval: ({ context }) => context.settings.registrationPollIntervalMs,
    historySilence: ({ context }) => context.settings.historySilenceMs,
    historyStall: ({ context }) => context.settings.historyStallMs,
    paymentRecheck: ({ context }) => context.settings.paymentRecheckMs,
    statusCardRefresh: ({ context }) => context.settings.statusCardRefreshMs,
    syncWindow: ({ context }) => context.settings.syncWindowMs,
  },
});

/**
 * The Embedded Signup code exchanged for a sealed token: in signup (legacy flow) and in
 * registration (session flow), where FINISH arrived; a refusal blocks in `stage` for the reason
 * `reasonOf` reads from Meta's code and message.
 */
const exchangingCode = (
  stage: 'signup' | 'registration',
  reasonOf: (code: number | undefined, detail: string) => BlockedReason,
) =>
  onboarding.createStateConfig({
    invoke: {
      id: 'exchangeSignupCode',
      src: 'exchangeSignupCode',
      input: ({ event }) => {
        assertEvent(event, 'signup.finished');
        return { code: event.code };
      },
      onDone: { target: 'lookingUpNumber', actions: assign({ sealedToken: ({ event }) => event.output.sealedToken }) },
      onError: {
        target: '#onboarding.blocked',
        actions: {
          type: 'block',
          params: ({ event }) => {
            const code = metaErrorCode(event.error);
            const detail = errorMessage(event.error);
            return { stage, reason: reasonOf(code, detail), ...(code !== undefined ? { code } : {}), detail };
          },
        },
      },
    },
  });

type LookupDone = { event: DoneActorEvent<LookupPhoneNumberOutput> };

/** Registration: a WABA that does not list the number is a named block. */
const numberNotInWaba = {
  guard: ({ event }: LookupDone) => event.output.found === false,
  target: '#onboarding.blocked',
  actions: {
    type: 'block',
    params: ({ event }: LookupDone) => ({
      stage: 'registration' as const,
      reason: 'number_not_in_waba' as const,
      detail: `the WABA lists ${event.output.found === false && event.output.listed.length > 0 ? event.output.listed.join(', ') : 'no number'}`,
    }),
  },
} as const;

/**
 * The number looked up in the WABA: in signup (legacy flow) and in registration (session flow).
 * Always looked up, even with an id from Embedded Signup: it proves the number is in this WABA and
 * still on the app, and gives its display form. Registration first tells a WABA that does not list
 * the number (only the number the backend started: never another number's id and token). On the
 * app: on to `onApp`; off it, or a failed call: blocked in `stage`.
 */
const lookingUpNumber = (stage: 'signup' | 'registration', onApp: '#onboarding.linking' | 'subscribingApp') =>
  onboarding.createStateConfig({
    invoke: {
      id: 'lookupPhoneNumber',
      src: 'lookupPhoneNumber',
      input: ({ context }) => ({
        wabaId: need(context.wabaId, 'wabaId'),
        phoneNumber: context.phoneNumber,
        sealedToken: tokenOf(context),
        ...(context.phoneNumberId !== undefined ? { phoneNumberId: context.phoneNumberId } : {}),
      }),
      onDone: [
        ...(stage === 'registration' ? [numberNotInWaba] : []),
        {
          guard: ({ event }) => event.output.found !== false && event.output.isOnBizApp,
          target: onApp,
          actions: assign(({ event }) =>
            event.output.found === false
              ? {}
              : { phoneNumberId: event.output.phoneNumberId, displayPhoneNumber: event.output.displayPhoneNumber },
          ),
        },
        {
          target: '#onboarding.blocked',
          actions: { type: 'block', params: { stage, reason: 'not_on_business_app' } },
        },
      ],
      onError: {
        target: '#onboarding.blocked',
        actions: { type: 'block', params: ({ event }) => blockedByGraphError(stage, event.error) },
      },
    },
  });

export const onboardingMachine = onboarding.createMachine({
  id: 'onboarding',
  initial: 'prerequisites',
  context: ({ input }) => {
    const settings = { ...DEFAULT_ONBOARDING_SETTINGS, ...compact(input.settings ?? {}) };
    const context: OnboardingContext = {
      phoneNumber: input.phoneNumber,
      settings,
      flow: input.flow ?? 'session',
      lifecycleEvents: [],
      lifecycleFence: {},
      warnings: [],
      ...freshOnboarding(settings),
      sendingState: { canSend: false },
      lastLifecycleEventTime: 0,
    };
    return { ...context, sendingState: sendingStateOf(context) };
  },
  output: ({ context }) => ({ phoneNumber: context.phoneNumber, cancelledBy: context.cancelledBy }),
  on: {
    cancel: { target: '.cancelled', actions: 'recordCancellation' },
    // Session flow: a lifecycle event in a stage that does not act on it is still recorded.
    'account.update': { guard: and(['isSessionFlow', not('isRepeatedLifecycleEvent')]), actions: 'recordLifecycleEvent' },
    'sync.windowClosed': { actions: 'closeSyncWindow' },
  },
  states: {
    // "Before you start": app version, business portfolio, number free. Payment only warns.
    prerequisites: {
      tags: 'prerequisites',
      on: {
        'prerequisites.report': [
          {
            guard: 'appTooOld',
            target: 'blocked',
            actions: ['recordPrerequisites', { type: 'block', params: { stage: 'prerequisites', reason: 'app_too_old' } }],
          },
          {
            guard: 'lacksBusinessPortfolio',
            target: 'blocked',
            actions: [
              'recordPrerequisites',
              { type: 'block', params: { stage: 'prerequisites', reason: 'no_business_portfolio' } },
            ],
          },
          {
            guard: 'connectedElsewhere',
            target: 'blocked',
            actions: [
              'recordPrerequisites',
              { type: 'block', params: { stage: 'prerequisites', reason: 'connected_elsewhere' } },
            ],
          },
          { target: 'signup', actions: 'recordPrerequisites' },
        ],
      },
    },

    // Embedded Signup with featureType whatsapp_business_app_onboarding.
    signup: {
      tags: 'signup',
      entry: 'beginSignup',
      initial: 'awaitingResult',
      states: {
        // Session flow: the backend reports the popup open (`signup.started`); a FINISH that comes
        // without a reported session is accepted too.
        awaitingResult: {
          on: {
            'signup.started': startSignupSession,
            'signup.finished': [finishSignupSession, { target: 'exchangingCode', actions: 'recordSignupFinished' }],
            'signup.cancelled': signupCancelled,
          },
        },
        // The code lives about 30 seconds: exchanged the moment it arrives, never stored. Expired or
        // refused (100, 190, or no answer in time): only a new signup yields a code.
        exchangingCode: exchangingCode('signup', () => 'signup_code_expired'),
        lookingUpNumber: lookingUpNumber('signup', '#onboarding.linking'),
      },
    },

    // The QR / code lives in Meta's popup with no refresh API: attempts with our own TTL.
    // Session flow: linking is the part of the signup session before FINISH, its attempts counted
    // from the session's start; FINISH is the proof of the scan. Legacy flow: after FINISH, until
    // the backend reports the scan (`linking.confirmed`).
    linking: {
      tags: 'linking',
      entry: 'beginLinking',
      initial: 'choosing',
      on: {
        'linking.confirmed': { guard: 'isLegacyFlow', target: 'registration', actions: 'recordLinked' },
      },
      states: {
        choosing: { always: [{ guard: 'isSessionFlow', target: 'session' }, { target: 'attempt' }] },
        session: {
          after: {
            // Each lapse: the backend's page tells the person to refresh the code on Meta's screen.
            linkingAttemptTtl: [
              {
                guard: 'linkingAttemptsLeft',
                target: 'session',
                reenter: true,
                actions: [
                  { type: 'notifyBackend', params: ({ context }) => linkingLapsedNotice(context) },
                  'countLinkingAttempt',
                ],
              },
              {
                target: '#onboarding.blocked',
                actions: { type: 'block', params: { stage: 'linking', reason: 'qr_not_scanned' } },
              },
            ],
          },
          on: {
            // The person refreshed the code on Meta's screen: a new attempt, with a full TTL.
            'linking.refresh': { guard: 'linkingAttemptsLeft', target: 'session', reenter: true, actions: 'countLinkingAttempt' },
            // The popup opened again: a new session.
            'signup.started': { target: '#onboarding.linking', reenter: true, actions: 'recordSignupStarted' },
            'signup.finished': finishSignupSession,
            'signup.cancelled': signupCancelled,
          },
        },
        attempt: {
          entry: {
            type: 'startLinkingAttempt',
            params: ({ context }) => ({
              phoneNumber: context.phoneNumber,
              attempt: context.linkingAttempts,
              maxAttempts: context.settings.maxLinkingAttempts,
              method: context.linkingMethod,
              expiresInMs: context.settings.linkingAttemptTtlMs,
            }),
          },
          after: {
            // qrExpired: a fresh attempt at once, and the user is told to refresh and scan immediately.
            linkingAttemptTtl: [
              {
                guard: 'linkingAttemptsLeft',
                target: 'attempt',
                reenter: true,
                actions: [
                  { type: 'notifyBackend', params: ({ context }) => linkingLapsedNotice(context) },
                  'countLinkingAttempt',
                ],
              },
              {
                target: '#onboarding.blocked',
                actions: { type: 'block', params: { stage: 'linking', reason: 'qr_not_scanned' } },
              },
            ],
          },
          on: {
            'linking.refresh': { guard: 'linkingAttemptsLeft', target: 'attempt', reenter: true, actions: 'countLinkingAttempt' },
          },
        },
      },
    },

    // Coexistence numbers are already registered in the app: never /register. Subscribe the app
    // (before any sync, or webhooks are missed), then confirm the number is on both.
    registration: {
      tags: 'registration',
      initial: 'subscribingApp',
      states: {
        // Session flow: FINISH arrived; its code lives about 30 seconds: exchanged at once, never
        // stored. Each of Meta's refusals is a reason of its own; only a new signup yields a code.
        exchangingCode: exchangingCode('registration', exchangeErrorReason),
        lookingUpNumber: lookingUpNumber('registration', 'subscribingApp'),
        subscribingApp: {
          invoke: {
            id: 'subscribeApp',
            src: 'subscribeApp',
            input: ({ context }) => ({ wabaId: need(context.wabaId, 'wabaId'), sealedToken: tokenOf(context) }),
            onDone: 'confirming',
            onError: {
              target: '#onboarding.blocked',
              actions: { type: 'block', params: ({ event }) => blockedByGraphError('registration', event.error) },
            },
          },
        },
        // Health data lags the signup: polled until the deadline, a webhook may confirm first.
        confirming: {
          initial: 'checking',
          after: { registrationDeadline: 'stuck' },
          on: {
            'registration.confirmed': {
              guard: 'confirmationShowsCoexistence',
              target: '#onboarding.sync',
              actions: 'recordRegistrationConfirmed',
            },
          },
          states: {
            checking: {
              invoke: {
                id: 'checkRegistration',
                src: 'checkRegistration',
                input: ({ context }) => ({
                  phoneNumberId: need(context.phoneNumberId, 'phoneNumberId'),
                  sealedToken: tokenOf(context),
                }),
                onDone: [
                  {
                    guard: ({ event }) => isOnCloudApiAndApp(event.output),
                    target: '#onboarding.sync',
                    actions: assign(({ context, event }) =>
                      registrationChecked(context, { lastCheck: event.output, confirmedBy: 'check' }),
                    ),
                  },
                  {
                    target: 'waitingToRecheck',
                    actions: assign(({ context, event }) => registrationChecked(context, { lastCheck: event.output })),
                  },
                ],
                onError: [
                  {
                    guard: ({ event }) => isAuthorizationErrorCode(metaErrorCode(event.error)),
                    target: '#onboarding.blocked',
                    actions: { type: 'block', params: ({ event }) => blockedByGraphError('registration', event.error) },
                  },
                  {
                    // Health data lags the signup: a failed read is one more poll, bounded by the deadline.
                    target: 'waitingToRecheck',
                    actions: assign(({ context, event }) =>
                      registrationChecked(context, { lastError: errorMessage(event.error) }),
                    ),
                  },
                ],
              },
            },
            waitingToRecheck: { after: { registrationPollInterval: 'checking' } },
          },
        },
        stuck: {
          entry: [{ type: 'block', params: { stage: 'registration', reason: 'registration_not_confirmed' } }, notifyBlocked],
          exit: 'clearBlocked',
          on: {
            'registration.confirmed': {
              guard: 'confirmationShowsCoexistence',
              target: '#onboarding.sync',
              actions: 'recordRegistrationConfirmed',
            },
            retry: 'confirming',
          },
        },
      },
    },

    // Contacts, then history: each requested exactly once, within 24 h of onboarding. A failure is
    // recorded with Meta's code and never retried (2593107 already used, 2593108 past 24 h).
    sync: {
      tags: 'sync',
      type: 'parallel',
      on: {
        'account.update': recordNewerLifecycleEvent,
        ...statusCardUpdates,
      },
      states: {
        requests: {
          initial: 'next',
          states: {
            // Decided before a request starts, so no path ever asks Meta twice. Session flow: past
            // Meta's 24 h window nothing is asked; each request is recorded as refused for lateness.
            next: {
              always: [
                {
                  guard: and([
                    'syncWindowClosed',
                    { type: 'syncNotAttempted', params: { syncType: 'smb_app_state_sync' as const } },
                  ]),
                  actions: [
                    assign({ contactsSync: () => syncWindowPassed() }),
                    { type: 'notifyBackend', params: ({ context }) => syncFailedNotice(context, 'smb_app_state_sync') },
                  ],
                },
                {
                  guard: and(['syncWindowClosed', { type: 'syncNotAttempted', params: { syncType: 'history' as const } }]),
                  actions: [
                    assign({ historySync: () => syncWindowPassed() }),
                    { type: 'notifyBackend', params: ({ context }) => syncFailedNotice(context, 'history') },
                  ],
                },
                { guard: { type: 'syncNotAttempted', params: { syncType: 'smb_app_state_sync' } }, target: 'requestingContacts' },
                { guard: { type: 'syncNotAttempted', params: { syncType: 'history' } }, target: 'requestingHistory' },
                // A disconnection during sync takes effect once no request is in flight.
                { guard: 'isOffboarded', target: '#onboarding.offboarded' },
                { target: '#onboarding.payment' },
              ],
            },
            requestingContacts: {
              entry: { type: 'markSyncRequesting', params: { syncType: 'smb_app_state_sync' } },
              invoke: {
                id: 'requestContactsSync',
                src: 'requestSync',
                input: ({ context }) => ({
                  phoneNumberId: need(context.phoneNumberId, 'phoneNumberId'),
                  syncType: 'smb_app_state_sync' as const,
                  sealedToken: tokenOf(context),
                }),
                onDone: {
                  target: 'next',
                  actions: assign({
                    contactsSync: ({ event }) => ({ status: 'requested' as const, requestId: event.output.requestId }),
                  }),
                },
                onError: {
                  target: 'next',
                  actions: [
                    assign({ contactsSync: ({ event }) => syncFailure(event.error) }),
                    { type: 'notifyBackend', params: ({ context }) => syncFailedNotice(context, 'smb_app_state_sync') },
                  ],
                },
              },
            },
            requestingHistory: {
              entry: { type: 'markSyncRequesting', params: { syncType: 'history' } },
              invoke: {
                id: 'requestHistorySync',
                src: 'requestSync',
                input: ({ context }) => ({
                  phoneNumberId: need(context.phoneNumberId, 'phoneNumberId'),
                  syncType: 'history' as const,
                  sealedToken: tokenOf(context),
                }),
                onDone: {
                  target: 'next',
                  actions: assign({
                    historySync: ({ event }) => ({ status: 'requested' as const, requestId: event.output.requestId }),
                    // The 200 says "accepted", not that the business agreed to share.
                    history: ({ context }) =>
                      context.history.status === 'not_requested'
                        ? { ...context.history, status: 'awaiting' as const }
                        : context.history,
                  }),
                },
                onError: {
                  target: 'next',
                  actions: [
                    assign({ historySync: ({ event }) => syncFailure(event.error) }),
                    { type: 'notifyBackend', params: ({ context }) => syncFailedNotice(context, 'history') },
                  ],
                },
              },
            },
          },
        },
        history: historyBeforeRequest,
      },
    },

    // The payment method cannot be read from Meta: inferred from health (141006) or a 131042.
    payment: {
      tags: 'payment',
      type: 'parallel',
      on: {
        'account.update': lifecycleWhileConnected,
        'send.refused': { guard: 'isSendingBlockRefusal', actions: 'recordSendRefusal' },
        ...statusCardUpdates,
      },
      states: {
        paymentMethod: {
          initial: 'checking',
          on: {
            'payment.added': { target: '.checking', actions: 'recordPaymentAdded' },
          },
          states: {
            checking: {
              invoke: {
                id: 'checkPaymentMethod',
                src: 'checkPaymentMethod',
                input: ({ context }) => ({
                  phoneNumberId: need(context.phoneNumberId, 'phoneNumberId'),
                  wabaId: need(context.wabaId, 'wabaId'),
                  sealedToken: tokenOf(context),
                }),
                onDone: [
                  {
                    // An unresolved 131042 outweighs a clean health read until `payment.added`.
                    guard: ({ context, event }) =>
                      !event.output.paymentMissing && !context.unresolvedSendErrors.includes(PAYMENT_REFUSAL_CODE),
                    target: '#onboarding.active',
                    actions: assign(({ context, event }) => paymentChecked(context, event.output)),
                  },
                  {
                    guard: 'paymentAlreadyRequired',
                    target: 'awaitingPaymentMethod',
                    actions: assign(({ context, event }) => paymentChecked(context, event.output)),
                  },
                  {
                    target: 'awaitingPaymentMethod',
                    actions: [
                      assign(({ context, event }) => paymentChecked(context, event.output)),
                      { type: 'notifyBackend', params: ({ context }) => paymentRequiredNotice(context) },
                    ],
                  },
                ],
                onError: {
                  target: 'awaitingPaymentMethod',
                  actions: assign({
                    payment: ({ context, event }) => ({
                      ...context.payment,
                      checks: context.payment.checks + 1,
                      lastError: errorMessage(event.error),
                    }),
                  }),
                },
              },
            },
            // Sending state "blocked: add payment details" until a re-check finds one.
            awaitingPaymentMethod: {
              after: { paymentRecheck: 'checking' },
            },
          },
        },
        history: historyTracking,
        statusCard: statusCardRegion('payment'),
        reauthorization: reauthorizationRegion,
      },
    },

    active: {
      tags: 'active',
      type: 'parallel',
      entry: {
        type: 'notifyBackend',
        params: ({ context }) => ({
          kind: 'active' as const,
          phoneNumber: context.phoneNumber,
          wabaId: need(context.wabaId, 'wabaId'),
          phoneNumberId: need(context.phoneNumberId, 'phoneNumberId'),
          ...(context.displayPhoneNumber !== undefined ? { displayPhoneNumber: context.displayPhoneNumber } : {}),
        }),
      },
      on: {
        'account.update': lifecycleWhileConnected,
      },
      states: {
        // The WhatsApp Account Status card: re-read on entry, on quality / name webhooks, on a new
        // send-error class, on demand, and (session flow) on lifecycle events and on a schedule.
        statusCard: {
          ...statusCardRegion('active'),
          on: {
            ...statusCardRegion('active').on,
            'statusCard.refresh': { target: '.refreshing', actions: 'forgetPolicyRefusals' },
            'account.qualityUpdate': { target: '.refreshing', actions: 'recordQualityUpdate' },
            'account.nameUpdate': { target: '.refreshing', actions: 'recordNameUpdate' },
            'send.refused': [
              {
                guard: 'isPaymentRefusal',
                target: '#onboarding.payment',
                actions: [
                  'recordSendRefusal',
                  { type: 'notifyBackend', params: ({ context }) => paymentRequiredNotice(context) },
                ],
              },
              { guard: 'isSendingBlockRefusal', target: '.refreshing', actions: 'recordSendRefusal' },
            ],
          },
        },
        history: historyTracking,
        reauthorization: reauthorizationRegion,
      },
    },

    blocked: {
      tags: 'blocked',
      entry: notifyBlocked,
      exit: 'clearBlocked',
      on: {
        // Session flow: the person opened Meta's popup again, or a FINISH arrived after all (an
        // abandoned session the phone completed late): the onboarding resumes, nothing is lost.
        'signup.started': { guard: 'blockedBeforeConnection', target: 'linking', actions: 'recordSignupStarted' },
        'signup.finished': {
          guard: 'blockedBeforeConnection',
          target: '#onboarding.registration.exchangingCode',
          actions: ['recordSignupFinished', ...scheduleSyncWindow],
        },
        retry: [
          { guard: { type: 'retryGoesTo', params: { stage: 'prerequisites' } }, target: 'prerequisites' },
          { guard: { type: 'retryGoesTo', params: { stage: 'signup' } }, target: 'signup' },
          { guard: { type: 'retryGoesTo', params: { stage: 'linking' } }, target: 'linking' },
          { guard: { type: 'retryGoesTo', params: { stage: 'registration' } }, target: 'registration' },
        ],
        reset: [
          { guard: { type: 'canResetTo', params: { stage: 'prerequisites' } }, target: 'prerequisites' },
          { guard: { type: 'canResetTo', params: { stage: 'signup' } }, target: 'signup' },
          { guard: { type: 'canResetTo', params: { stage: 'linking' } }, target: 'linking' },
          { guard: { type: 'canResetTo', params: { stage: 'registration' } }, target: 'registration' },
        ],
      },
    },

    cancelled: {
      tags: 'cancelled',
      type: 'final',
    },

    // PARTNER_REMOVED (app › Disconnect, or Meta, e.g. PRIMARY_INACTIVITY) or ACCOUNT_OFFBOARDED.
    offboarded: {
      tags: 'offboarded',
      type: 'parallel',
      entry: {
        type: 'notifyBackend',
        params: ({ context }) => {
          const offboarding = need(context.offboarding, 'offboarding');
          return {
            kind: 'offboarded' as const,
            phoneNumber: context.phoneNumber,
            event: offboarding.event,
            ...(offboarding.reason !== undefined ? { reason: offboarding.reason } : {}),
            ...(offboarding.initiatedBy !== undefined ? { initiatedBy: offboarding.initiatedBy } : {}),
            remedy: offboarding.remedy,
          };
        },
      },
      on: {
        'account.update': [
          // Back to active, through the payment check when payment was never confirmed.
          {
            guard: and(['isNewerLifecycleEvent', 'isReconnection', 'paymentNotConfirmed']),
            target: 'payment',
            actions: 'recordLifecycleEvent',
          },
          { guard: and(['isNewerLifecycleEvent', 'isReconnection']), target: 'active', actions: 'recordLifecycleEvent' },
          recordNewerLifecycleEvent,
        ],
        ...statusCardUpdates,
        retry: { guard: 'canReonboard', target: 'signup' },
        // Session flow: after PARTNER_REMOVED a new Embedded Signup onboards the number again;
        // otherwise a new code is a re-authorisation.
        'signup.started': { guard: and(['isSessionFlow', 'canReonboard']), target: 'linking', actions: 'recordSignupStarted' },
        'signup.finished': {
          guard: and(['isSessionFlow', 'canReonboard']),
          target: '#onboarding.registration.exchangingCode',
          actions: ['recordSignupFinished', ...scheduleSyncWindow],
        },
      },
      states: {
        history: historyTracking,
        statusCard: statusCardRegion('offboarded'),
        reauthorization: reauthorizationRegion,
      },
    },
  },
});

export type OnboardingSnapshot = SnapshotFrom<typeof onboardingMachine>;

/** The enforcement or access block of the sending state, if it is one the backend is told of. */
function announcedBlockOf(context: OnboardingContext): string | undefined {
  const reason = context.sendingState.reason;
  return reason !== undefined && ANNOUNCED_SENDING_BLOCKS.includes(reason) ? reason : undefined;
}

/**
 * What a read of the number decides after a lifecycle event: the read when it settles it; when it
 * failed, or shows neither, the pending event by the fallback rules.
 */
function lifecycleDecision(context: OnboardingContext): 'connected' | 'disconnected' | 'unknown' {
  const verdict = context.statusCard.lastError === undefined ? readVerdict(context.statusCard) : 'unknown';
  if (verdict !== 'unknown') return verdict;
  const pending = context.pendingLifecycle?.event;
  if (pending === undefined) return 'unknown';
  return DISCONNECTIONS.includes(pending) ? 'disconnected' : pending === RECONNECTION ? 'connected' : 'unknown';
}
