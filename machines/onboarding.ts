/**
 * Coexistence onboarding: a number live in the WhatsApp Business app, connected to the Cloud API.
 *
 *   prerequisites → signup → linking → registration → sync → payment → active
 *   blocked (reason + remedy, retry / reset) · cancelled · offboarded (→ active on reconnect)
 *
 * Pure: Meta calls are invoked actors and backend callbacks named actions, both run as activities
 * by the durable interpreter (see ./effects). Tokens exist here only sealed.
 */
import { assign, fromPromise, raise, setup, type SnapshotFrom } from 'xstate';
import { metaErrorCode, runsAsActivity, type InvocationError } from './effects';
import {
  blockedReasons,
  linkingLapsedRemedy,
  remedyOf,
  sendingBlocks,
  signupErrorReason,
  type BlockedReason,
  type SendingBlock,
  type Stage,
} from './remedies';

export const MINIMUM_APP_VERSION = '2.24.17';

export interface OnboardingSettings {
  /** How long one QR / verification code attempt is shown before a fresh one (Meta documents none). */
  linkingAttemptTtlMs: number;
  maxLinkingAttempts: number;
  registrationPollIntervalMs: number;
  /** Past this without confirmation, registration is blocked `registration_not_confirmed`. */
  registrationDeadlineMs: number;
  /** A history sync request with no `history` webhook for this long: "history never arrived". */
  historySilenceMs: number;
  /** Payment missing: re-check this often even without a `payment.added` event. */
  paymentRecheckMs: number;
}

export const defaultOnboardingSettings: OnboardingSettings = {
  linkingAttemptTtlMs: 2 * 60_000,
  maxLinkingAttempts: 5,
  registrationPollIntervalMs: 15_000,
  registrationDeadlineMs: 10 * 60_000,
  historySilenceMs: 24 * 60 * 60_000,
  paymentRecheckMs: 6 * 60 * 60_000,
};

export interface OnboardingInput {
  phoneNumber: string;
  settings?: Partial<OnboardingSettings>;
}

export type LinkingMethod = 'qr' | 'code';
export type SyncType = 'smb_app_state_sync' | 'history';
export type ResetStage = 'prerequisites' | 'signup' | 'linking' | 'registration';

export interface SyncRecord {
  status: 'not_requested' | 'requested' | 'failed';
  requestId?: string;
  /** Meta's code when the request failed (2593107 already used, 2593108 past 24 h). */
  errorCode?: number;
}

export type HistoryStatus = 'not_requested' | 'waiting' | 'in_progress' | 'complete' | 'declined' | 'not_received' | 'failed';

export interface StatusCard {
  displayName?: string;
  nameStatus?: string;
  qualityRating?: string;
  messagingLimitTier?: string;
  throughput?: string;
  status?: string;
  canSendMessage?: string;
  isOnBizApp?: boolean;
  platformType?: string;
}

export interface SendingState {
  canSend: boolean;
  reason?: SendingBlock;
  remedy?: string;
}

export interface OnboardingContext {
  phoneNumber: string;
  settings: OnboardingSettings;
  wabaId?: string;
  phoneNumberId?: string;
  sealedToken?: string;
  linkingMethod: LinkingMethod;
  linkingAttempts: number;
  registrationChecks: number;
  warnings: string[];
  blocked?: { reason: BlockedReason; remedy: string; stage: Stage; code?: number | string };
  contactsSync: SyncRecord;
  historySync: SyncRecord & { historyStatus: HistoryStatus; progress?: number };
  statusCard: StatusCard;
  /** Send errors seen and not resolved since (131042, 368, 131031). */
  sendErrors: number[];
  sendingState: SendingState;
  offboarding?: { event: string; reason?: string; initiatedBy?: string };
  /** Newest `entry[].time` (seconds) of a lifecycle webhook applied; older ones are stale. */
  lastLifecycleEventTime: number;
}

export type OnboardingEvent =
  | { type: 'prerequisites.report'; appVersion: string; hasBusinessPortfolio: boolean; connectedElsewhere: boolean; hasPaymentMethod?: boolean }
  | { type: 'signup.finished'; wabaId: string; code: string; phoneNumberId?: string }
  | { type: 'signup.cancelled'; currentStep?: string; errorCode?: string; errorMessage?: string; sessionId?: string }
  | { type: 'linking.confirmed'; method: LinkingMethod }
  | { type: 'linking.refresh'; by?: string }
  | { type: 'registration.confirmed' }
  | { type: 'history.progress'; progress: number; phase?: number; chunkOrder?: number }
  | { type: 'history.declined' }
  | { type: 'history.silence' }
  | { type: 'payment.added' }
  | { type: 'send.refused'; code: number }
  | { type: 'statusCard.refresh'; by?: string }
  | { type: 'account.qualityUpdate'; qualityRating?: string; messagingLimitTier?: string }
  | { type: 'account.nameUpdate'; decision: string; requestedVerifiedName?: string }
  | { type: 'account.update'; event: string; reason?: string; initiatedBy?: string; eventTime: number }
  | { type: 'cancel'; by?: string }
  | { type: 'retry'; by?: string }
  | { type: 'reset'; to: ResetStage; by?: string };

// --- effects (activities) -----------------------------------------------------------------------

export interface ExchangeSignupCodeInput { code: string }
export interface ExchangeSignupCodeOutput { sealedToken: string }
export interface LookupPhoneNumberInput { wabaId: string; phoneNumber: string; sealedToken: string; phoneNumberId?: string }
export interface LookupPhoneNumberOutput { phoneNumberId: string; displayPhoneNumber: string; isOnBizApp: boolean; platformType?: string }
export interface SubscribeAppInput { wabaId: string; sealedToken: string }
export interface CheckRegistrationInput { phoneNumberId: string; sealedToken: string }
export interface CheckRegistrationOutput { isOnBizApp: boolean; platformType: string; status?: string }
export interface RequestSyncInput { phoneNumberId: string; syncType: SyncType; sealedToken: string }
export interface RequestSyncOutput { requestId: string }
export interface CheckPaymentMethodInput { wabaId: string; phoneNumberId: string; sealedToken: string }
export interface CheckPaymentMethodOutput { canSendMessage: string; paymentMissing: boolean; errorCodes: number[] }
export interface FetchStatusCardInput { phoneNumberId: string; sealedToken: string }
export type FetchStatusCardOutput = StatusCard;

export interface StartLinkingAttemptParams { phoneNumber: string; attempt: number; maxAttempts: number; method: LinkingMethod; expiresInMs: number }
export type NotifyBackendParams =
  | { kind: 'linkingLapsed'; phoneNumber: string; attempt: number; maxAttempts: number; remedy: string }
  | { kind: 'blocked'; phoneNumber: string; reason: BlockedReason; remedy: string; stage: Stage }
  | { kind: 'active'; phoneNumber: string; statusCard: StatusCard; sendingState: SendingState }
  | { kind: 'sendingBlocked'; phoneNumber: string; sendingState: SendingState }
  | { kind: 'offboarded'; phoneNumber: string; event: string; reason?: string }
  | { kind: 'cancelled'; phoneNumber: string };

const activity = <O, I>(name: string) => fromPromise<O, I>(async () => runsAsActivity(name));

// --- pure rules -----------------------------------------------------------------------------------

/** `a ≥ b` for dotted versions, compared number by number (2.24.17 > 2.24.9). */
export function versionAtLeast(a: string, b: string): boolean {
  const pa = a.split('.').map((n) => parseInt(n, 10) || 0);
  const pb = b.split('.').map((n) => parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

const sendErrorBlocks: Record<number, SendingBlock> = { 131042: 'payment_missing', 368: 'policy_restricted', 131031: 'account_locked' };

/** The card's "Sending state": Active, or the first reason it cannot send (meta-reference §6). */
export function sendingStateOf(card: StatusCard, sendErrors: number[], offboarded: boolean): SendingState {
  const block = (reason: SendingBlock): SendingState => ({ canSend: false, reason, remedy: sendingBlocks[reason] });
  if (offboarded) return block('offboarded');
  const unresolved = sendErrors.map((c) => sendErrorBlocks[c]).find(Boolean);
  if (unresolved) return block(unresolved);
  if ((card.status && card.status !== 'CONNECTED') || (card.platformType && card.platformType !== 'CLOUD_API') || card.isOnBizApp === false) {
    return block('not_connected');
  }
  if (card.canSendMessage === 'BLOCKED') return block(card.qualityRating === 'RED' ? 'quality_low' : 'payment_missing');
  if (card.nameStatus === 'DECLINED' || card.nameStatus === 'PENDING_REVIEW') return block('display_name_not_approved');
  return { canSend: true };
}

export const STAGE_ORDER: Stage[] = ['prerequisites', 'signup', 'linking', 'registration', 'sync', 'payment', 'active'];

/** The stage of a snapshot: its top-level state. */
export function stageOf(snapshot: { value: unknown }): string {
  const v = snapshot.value;
  return typeof v === 'string' ? v : Object.keys(v as object)[0]!;
}

export interface BlockParams {
  stage: Stage;
  reason: BlockedReason;
  code?: number | string;
}

// --- the machine ----------------------------------------------------------------------------------

export const onboardingMachine = setup({
  types: {
    context: {} as OnboardingContext,
    events: {} as OnboardingEvent,
    input: {} as OnboardingInput,
  },
  actions: {
    startLinkingAttempt: (_, _params: StartLinkingAttemptParams) => {},
    notifyBackend: (_, _params: NotifyBackendParams) => {},
    block: assign((_, { stage, reason, code }: BlockParams) => ({
      blocked: { reason, remedy: remedyOf(reason), stage, ...(code !== undefined ? { code } : {}) },
    })),
    recordLifecycle: assign(({ context, event }) =>
      event.type === 'account.update'
        ? {
            lastLifecycleEventTime: event.eventTime,
            ...(['PARTNER_REMOVED', 'ACCOUNT_OFFBOARDED', 'ACCOUNT_DELETED'].includes(event.event)
              ? { offboarding: { event: event.event, reason: event.reason, initiatedBy: event.initiatedBy } }
              : {}),
          }
        : { lastLifecycleEventTime: context.lastLifecycleEventTime },
    ),
  },
  actors: {
    exchangeSignupCode: activity<ExchangeSignupCodeOutput, ExchangeSignupCodeInput>('exchangeSignupCode'),
    lookupPhoneNumber: activity<LookupPhoneNumberOutput, LookupPhoneNumberInput>('lookupPhoneNumber'),
    subscribeApp: activity<void, SubscribeAppInput>('subscribeApp'),
    checkRegistration: activity<CheckRegistrationOutput, CheckRegistrationInput>('checkRegistration'),
    requestSync: activity<RequestSyncOutput, RequestSyncInput>('requestSync'),
    checkPaymentMethod: activity<CheckPaymentMethodOutput, CheckPaymentMethodInput>('checkPaymentMethod'),
    fetchStatusCard: activity<FetchStatusCardOutput, FetchStatusCardInput>('fetchStatusCard'),
  },
  guards: {
    appTooOld: ({ event }) => event.type === 'prerequisites.report' && !versionAtLeast(event.appVersion, MINIMUM_APP_VERSION),
    noBusinessPortfolio: ({ event }) => event.type === 'prerequisites.report' && !event.hasBusinessPortfolio,
    connectedElsewhere: ({ event }) => event.type === 'prerequisites.report' && event.connectedElsewhere,
    signupReportedError: ({ event }) => event.type === 'signup.cancelled' && event.errorCode !== undefined,
    codeRefused: ({ event }) => [100, 190, 0].includes(metaErrorCode((event as { error?: unknown }).error) ?? -1),
    tokenRefused: ({ event }) => [0, 190].includes(metaErrorCode((event as { error?: unknown }).error) ?? -1),
    numberOnBizApp: ({ event }) => (event as unknown as { output: LookupPhoneNumberOutput }).output.isOnBizApp,
    linkingAttemptsLeft: ({ context }) => context.linkingAttempts < context.settings.maxLinkingAttempts,
    registrationConfirmed: ({ event }) => {
      const out = (event as unknown as { output: CheckRegistrationOutput }).output;
      return out.isOnBizApp && out.platformType === 'CLOUD_API';
    },
    contactsSyncPending: ({ context }) => context.contactsSync.status === 'not_requested',
    historySyncPending: ({ context }) => context.historySync.status === 'not_requested',
    paymentMissing: ({ event }) => {
      const out = (event as unknown as { output: CheckPaymentMethodOutput }).output;
      return out.paymentMissing || out.canSendMessage === 'BLOCKED';
    },
    refusedForPayment: ({ event }) => event.type === 'send.refused' && event.code === 131042,
    lifecycleEventFresh: ({ context, event }) => event.type === 'account.update' && event.eventTime > context.lastLifecycleEventTime,
    disconnection: ({ context, event }) =>
      event.type === 'account.update' &&
      event.eventTime > context.lastLifecycleEventTime &&
      ['PARTNER_REMOVED', 'ACCOUNT_OFFBOARDED', 'ACCOUNT_DELETED'].includes(event.event),
    reconnection: ({ context, event }) =>
      event.type === 'account.update' && event.eventTime > context.lastLifecycleEventTime && event.event === 'ACCOUNT_RECONNECTED',
    retryTo: ({ context }, stage: Stage) => !!context.blocked && blockedReasons[context.blocked.reason].retryable && context.blocked.stage === stage,
    resetTo: ({ context, event }, stage: ResetStage) => {
      if (event.type !== 'reset' || event.to !== stage || !context.blocked) return false;
      if (STAGE_ORDER.indexOf(stage) > STAGE_ORDER.indexOf(context.blocked.stage)) return false;
      // Linking and registration need the WABA and number that signup found.
      return stage === 'prerequisites' || stage === 'signup' || !!(context.wabaId && context.phoneNumberId && context.sealedToken);
    },
    confirmationWhileStuck: ({ context }) => context.blocked?.reason === 'registration_not_confirmed',
  },
  delays: {
    linkingAttemptTtl: ({ context }) => context.settings.linkingAttemptTtlMs,
    registrationPollInterval: ({ context }) => context.settings.registrationPollIntervalMs,
    registrationDeadline: ({ context }) => context.settings.registrationDeadlineMs,
    paymentRecheck: ({ context }) => context.settings.paymentRecheckMs,
  },
}).createMachine({
  id: 'onboarding',
  initial: 'prerequisites',
  context: ({ input }) => ({
    phoneNumber: input.phoneNumber,
    settings: { ...defaultOnboardingSettings, ...input.settings },
    linkingMethod: 'qr',
    linkingAttempts: 0,
    registrationChecks: 0,
    warnings: [],
    contactsSync: { status: 'not_requested' },
    historySync: { status: 'not_requested', historyStatus: 'not_requested' },
    statusCard: {},
    sendErrors: [],
    sendingState: { canSend: false, reason: 'not_connected', remedy: sendingBlocks.not_connected },
    lastLifecycleEventTime: 0,
  }),
  on: {
    cancel: { target: '.cancelled' },
    // History arrives on its own webhook whatever the stage; it is recorded, never a transition.
    'history.progress': {
      guard: ({ context }) => ['waiting', 'in_progress'].includes(context.historySync.historyStatus),
      actions: assign({
        historySync: ({ context, event }) => ({
          ...context.historySync,
          progress: Math.max(context.historySync.progress ?? 0, event.progress),
          historyStatus: event.progress >= 100 ? 'complete' : 'in_progress',
        }),
      }),
    },
    'history.declined': {
      guard: ({ context }) => ['waiting', 'in_progress'].includes(context.historySync.historyStatus),
      actions: assign({ historySync: ({ context }) => ({ ...context.historySync, historyStatus: 'declined' }) }),
    },
    'history.silence': {
      guard: ({ context }) => context.historySync.historyStatus === 'waiting',
      actions: assign({ historySync: ({ context }) => ({ ...context.historySync, historyStatus: 'not_received' }) }),
    },
  },
  states: {
    prerequisites: {
      on: {
        'prerequisites.report': [
          { guard: 'appTooOld', target: 'blocked', actions: { type: 'block', params: { stage: 'prerequisites', reason: 'app_too_old' } } },
          { guard: 'noBusinessPortfolio', target: 'blocked', actions: { type: 'block', params: { stage: 'prerequisites', reason: 'no_business_portfolio' } } },
          { guard: 'connectedElsewhere', target: 'blocked', actions: { type: 'block', params: { stage: 'prerequisites', reason: 'connected_elsewhere' } } },
          {
            target: 'signup',
            actions: assign({
              // A missing payment method is set up after the connection: a warning, not a block.
              warnings: ({ event }) => (event.hasPaymentMethod === false ? ['payment_method_missing'] : []),
            }),
          },
        ],
      },
    },

    signup: {
      initial: 'awaitingResult',
      states: {
        awaitingResult: {
          on: {
            'signup.finished': {
              target: 'exchangingCode',
              actions: assign({ wabaId: ({ event }) => event.wabaId, phoneNumberId: ({ event }) => event.phoneNumberId }),
            },
            'signup.cancelled': [
              {
                guard: 'signupReportedError',
                target: '#onboarding.blocked',
                actions: {
                  type: 'block',
                  params: ({ event }) => ({ stage: 'signup' as const, reason: signupErrorReason(event.errorCode!), code: event.errorCode }),
                },
              },
              { target: '#onboarding.blocked', actions: { type: 'block', params: { stage: 'signup', reason: 'signup_abandoned' } } },
            ],
          },
        },
        // The code lives about 30 seconds: exchanged the moment it arrives.
        exchangingCode: {
          invoke: {
            id: 'exchangeSignupCode',
            src: 'exchangeSignupCode',
            input: ({ event }) => ({ code: (event as Extract<OnboardingEvent, { type: 'signup.finished' }>).code }),
            onDone: { target: 'resolvingNumber', actions: assign({ sealedToken: ({ event }) => event.output.sealedToken }) },
            onError: [
              { guard: 'codeRefused', target: '#onboarding.blocked', actions: { type: 'block', params: { stage: 'signup', reason: 'signup_code_expired' } } },
              {
                target: '#onboarding.blocked',
                actions: {
                  type: 'block',
                  params: ({ event }) => ({ stage: 'signup' as const, reason: 'signup_error' as const, code: metaErrorCode(event.error) }),
                },
              },
            ],
          },
        },
        // FINISH for business-app onboarding carries only the WABA id.
        resolvingNumber: {
          invoke: {
            id: 'lookupPhoneNumber',
            src: 'lookupPhoneNumber',
            input: ({ context }) => ({
              wabaId: context.wabaId!,
              phoneNumber: context.phoneNumber,
              sealedToken: context.sealedToken!,
              phoneNumberId: context.phoneNumberId,
            }),
            onDone: [
              {
                guard: 'numberOnBizApp',
                target: '#onboarding.linking',
                actions: assign({ phoneNumberId: ({ event }) => event.output.phoneNumberId }),
              },
              { target: '#onboarding.blocked', actions: { type: 'block', params: { stage: 'signup', reason: 'not_on_business_app' } } },
            ],
            onError: [
              { guard: 'tokenRefused', target: '#onboarding.blocked', actions: { type: 'block', params: { stage: 'signup', reason: 'reauthorization_required' } } },
              { target: '#onboarding.blocked', actions: { type: 'block', params: { stage: 'signup', reason: 'number_not_found' } } },
            ],
          },
        },
      },
    },

    linking: {
      entry: assign({ linkingAttempts: 0 }),
      initial: 'awaitingConfirmation',
      states: {
        awaitingConfirmation: {
          entry: [
            assign({ linkingAttempts: ({ context }) => context.linkingAttempts + 1 }),
            {
              type: 'startLinkingAttempt',
              params: ({ context }) => ({
                phoneNumber: context.phoneNumber,
                attempt: context.linkingAttempts,
                maxAttempts: context.settings.maxLinkingAttempts,
                method: context.linkingMethod,
                expiresInMs: context.settings.linkingAttemptTtlMs,
              }),
            },
          ],
          after: {
            linkingAttemptTtl: [
              {
                // qrExpired: a fresh attempt, and the user is told to refresh and scan at once.
                guard: 'linkingAttemptsLeft',
                target: 'awaitingConfirmation',
                reenter: true,
                actions: {
                  type: 'notifyBackend',
                  params: ({ context }) => ({
                    kind: 'linkingLapsed' as const,
                    phoneNumber: context.phoneNumber,
                    attempt: context.linkingAttempts,
                    maxAttempts: context.settings.maxLinkingAttempts,
                    remedy: linkingLapsedRemedy,
                  }),
                },
              },
              { target: '#onboarding.blocked', actions: { type: 'block', params: { stage: 'linking', reason: 'qr_not_scanned' } } },
            ],
          },
          on: {
            'linking.refresh': { guard: 'linkingAttemptsLeft', target: 'awaitingConfirmation', reenter: true },
          },
        },
      },
      on: {
        'linking.confirmed': { target: 'registration', actions: assign({ linkingMethod: ({ event }) => event.method }) },
      },
    },

    // Coexistence numbers are already registered in the app: never /register; subscribe, then confirm.
    registration: {
      initial: 'subscribing',
      after: {
        registrationDeadline: { target: 'blocked', actions: { type: 'block', params: { stage: 'registration', reason: 'registration_not_confirmed' } } },
      },
      on: { 'registration.confirmed': 'sync' },
      states: {
        subscribing: {
          invoke: {
            id: 'subscribeApp',
            src: 'subscribeApp',
            input: ({ context }) => ({ wabaId: context.wabaId!, sealedToken: context.sealedToken! }),
            onDone: 'checking',
            onError: [
              { guard: 'tokenRefused', target: '#onboarding.blocked', actions: { type: 'block', params: { stage: 'registration', reason: 'reauthorization_required' } } },
              {
                target: '#onboarding.blocked',
                actions: {
                  type: 'block',
                  params: ({ event }) => ({ stage: 'registration' as const, reason: 'registration_failed' as const, code: metaErrorCode(event.error) }),
                },
              },
            ],
          },
        },
        checking: {
          entry: assign({ registrationChecks: ({ context }) => context.registrationChecks + 1 }),
          invoke: {
            id: 'checkRegistration',
            src: 'checkRegistration',
            input: ({ context }) => ({ phoneNumberId: context.phoneNumberId!, sealedToken: context.sealedToken! }),
            onDone: [{ guard: 'registrationConfirmed', target: '#onboarding.sync' }, { target: 'waiting' }],
            // Health data lags the signup: a failed read is one more poll, bounded by the deadline.
            onError: 'waiting',
          },
        },
        waiting: { after: { registrationPollInterval: 'checking' } },
      },
    },

    // Contacts, then history: each requested once (Meta refuses a second, 2593107), never retried.
    sync: {
      initial: 'deciding',
      on: {
        'account.update': [
          { guard: 'disconnection', target: 'offboarded', actions: 'recordLifecycle' },
          { guard: 'lifecycleEventFresh', actions: 'recordLifecycle' },
        ],
      },
      states: {
        // Decided before any request starts, so that a retried or reset onboarding never asks twice.
        deciding: {
          always: [
            { guard: 'contactsSyncPending', target: 'requestingContacts' },
            { guard: 'historySyncPending', target: 'requestingHistory' },
            { target: '#onboarding.payment' },
          ],
        },
        requestingContacts: {
          invoke: {
            id: 'requestContactsSync',
            src: 'requestSync',
            input: ({ context }) => ({ phoneNumberId: context.phoneNumberId!, syncType: 'smb_app_state_sync' as const, sealedToken: context.sealedToken! }),
            onDone: { target: 'deciding', actions: assign({ contactsSync: ({ event }) => ({ status: 'requested' as const, requestId: event.output.requestId }) }) },
            onError: { target: 'deciding', actions: assign({ contactsSync: ({ event }) => failedSync(event.error) }) },
          },
        },
        requestingHistory: {
          invoke: {
            id: 'requestHistorySync',
            src: 'requestSync',
            input: ({ context }) => ({ phoneNumberId: context.phoneNumberId!, syncType: 'history' as const, sealedToken: context.sealedToken! }),
            onDone: {
              target: '#onboarding.payment',
              actions: [
                assign({ historySync: ({ event }) => ({ status: 'requested' as const, requestId: event.output.requestId, historyStatus: 'waiting' as const }) }),
                raise({ type: 'history.silence' }, { id: 'historySilence', delay: ({ context }) => context.settings.historySilenceMs }),
              ],
            },
            onError: {
              target: '#onboarding.payment',
              actions: assign({ historySync: ({ event }) => ({ ...failedSync(event.error), historyStatus: 'failed' as const }) }),
            },
          },
        },
      },
    },

    // The payment method cannot be read from Meta: inferred from health (141006) or a 131042.
    payment: {
      initial: 'checking',
      on: {
        'account.update': [
          { guard: 'disconnection', target: 'offboarded', actions: 'recordLifecycle' },
          { guard: 'lifecycleEventFresh', actions: 'recordLifecycle' },
        ],
      },
      states: {
        checking: {
          invoke: {
            id: 'checkPaymentMethod',
            src: 'checkPaymentMethod',
            input: ({ context }) => ({ wabaId: context.wabaId!, phoneNumberId: context.phoneNumberId!, sealedToken: context.sealedToken! }),
            onDone: [
              { guard: 'paymentMissing', target: 'missing' },
              { target: '#onboarding.active', actions: assign({ sendErrors: ({ context }) => context.sendErrors.filter((c) => c !== 131042) }) },
            ],
            onError: 'missing',
          },
        },
        missing: {
          entry: [
            assign({ sendingState: { canSend: false, reason: 'payment_missing', remedy: sendingBlocks.payment_missing } }),
            {
              type: 'notifyBackend',
              params: ({ context }) => ({ kind: 'sendingBlocked' as const, phoneNumber: context.phoneNumber, sendingState: context.sendingState }),
            },
          ],
          after: { paymentRecheck: 'checking' },
          on: { 'payment.added': 'checking' },
        },
      },
    },

    active: {
      initial: 'refreshing',
      entry: {
        type: 'notifyBackend',
        params: ({ context }) => ({ kind: 'active' as const, phoneNumber: context.phoneNumber, statusCard: context.statusCard, sendingState: context.sendingState }),
      },
      on: {
        'statusCard.refresh': '.refreshing',
        'account.qualityUpdate': {
          target: '.refreshing',
          actions: assign({
            statusCard: ({ context, event }) => ({
              ...context.statusCard,
              ...(event.qualityRating ? { qualityRating: event.qualityRating } : {}),
              ...(event.messagingLimitTier ? { messagingLimitTier: event.messagingLimitTier } : {}),
            }),
          }),
        },
        'account.nameUpdate': '.refreshing',
        'send.refused': [
          {
            guard: 'refusedForPayment',
            target: '#onboarding.payment.missing',
            actions: assign({ sendErrors: ({ context }) => [...new Set([...context.sendErrors, 131042])] }),
          },
          {
            guard: ({ event }) => event.type === 'send.refused' && event.code in sendErrorBlocks,
            actions: assign({
              sendErrors: ({ context, event }) => [...new Set([...context.sendErrors, (event as { code: number }).code])],
              sendingState: ({ context, event }) =>
                sendingStateOf(context.statusCard, [...context.sendErrors, (event as { code: number }).code], false),
            }),
          },
        ],
        'account.update': [
          { guard: 'disconnection', target: 'offboarded', actions: 'recordLifecycle' },
          { guard: 'lifecycleEventFresh', actions: 'recordLifecycle' },
        ],
      },
      states: {
        refreshing: {
          invoke: {
            id: 'fetchStatusCard',
            src: 'fetchStatusCard',
            input: ({ context }) => ({ phoneNumberId: context.phoneNumberId!, sealedToken: context.sealedToken! }),
            onDone: {
              target: 'ready',
              actions: assign(({ context, event }) => {
                const statusCard = { ...context.statusCard, ...event.output };
                return { statusCard, sendingState: sendingStateOf(statusCard, context.sendErrors, false) };
              }),
            },
            onError: 'ready',
          },
        },
        ready: {},
      },
    },

    offboarded: {
      entry: [
        assign({ sendingState: { canSend: false, reason: 'offboarded', remedy: sendingBlocks.offboarded } }),
        {
          type: 'notifyBackend',
          params: ({ context }) => ({
            kind: 'offboarded' as const,
            phoneNumber: context.phoneNumber,
            event: context.offboarding?.event ?? 'PARTNER_REMOVED',
            reason: context.offboarding?.reason,
          }),
        },
      ],
      on: {
        'account.update': [
          { guard: 'reconnection', target: 'active', actions: ['recordLifecycle', assign({ offboarding: undefined })] },
          { guard: 'lifecycleEventFresh', actions: 'recordLifecycle' },
        ],
      },
    },

    blocked: {
      entry: {
        type: 'notifyBackend',
        params: ({ context }) => ({
          kind: 'blocked' as const,
          phoneNumber: context.phoneNumber,
          reason: context.blocked!.reason,
          remedy: context.blocked!.remedy,
          stage: context.blocked!.stage,
        }),
      },
      exit: assign({ blocked: undefined }),
      on: {
        retry: [
          { guard: { type: 'retryTo', params: 'prerequisites' }, target: 'prerequisites' },
          { guard: { type: 'retryTo', params: 'signup' }, target: 'signup' },
          { guard: { type: 'retryTo', params: 'linking' }, target: 'linking' },
          { guard: { type: 'retryTo', params: 'registration' }, target: 'registration' },
        ],
        reset: [
          { guard: { type: 'resetTo', params: 'prerequisites' }, target: 'prerequisites' },
          { guard: { type: 'resetTo', params: 'signup' }, target: 'signup' },
          { guard: { type: 'resetTo', params: 'linking' }, target: 'linking' },
          { guard: { type: 'resetTo', params: 'registration' }, target: 'registration' },
        ],
        'registration.confirmed': { guard: 'confirmationWhileStuck', target: 'sync' },
      },
    },

    cancelled: {
      type: 'final',
      entry: { type: 'notifyBackend', params: ({ context }) => ({ kind: 'cancelled' as const, phoneNumber: context.phoneNumber }) },
    },
  },
});

function failedSync(error: unknown): SyncRecord {
  const code = metaErrorCode(error);
  return { status: 'failed', ...(code !== undefined ? { errorCode: code } : {}) };
}

export type OnboardingSnapshot = SnapshotFrom<typeof onboardingMachine>;
export type { InvocationError };
