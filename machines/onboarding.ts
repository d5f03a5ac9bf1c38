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
import { and, assertEvent, assign, fromPromise, not, setup, type SnapshotFrom, type StateValue } from 'xstate';
import { metaErrorCode, runsAsActivity } from './effects';
import {
  BLOCKED_REASONS,
  HISTORY_OUTCOMES,
  PAYMENT_REFUSAL_CODE,
  SEND_REFUSAL_REASONS,
  SENDING_BLOCKS,
  SYNC_FAILURES,
  WARNINGS,
  graphErrorReason,
  isAuthorizationErrorCode,
  linkingLapsedRemedy,
  offboardingRemedy,
  remedyFor,
  signupErrorReason,
  syncFailureReason,
  type BlockedReason,
  type HistoryOutcome,
  type SendingBlockReason,
  type SyncFailureReason,
  type WarningCode,
} from './remedies';

// --- settings and input -------------------------------------------------------------------------

export type LinkingMethod = 'qr' | 'code';

export interface OnboardingSettings {
  /** Method of the first linking attempt: the help article's QR, or Meta's verification code. */
  linkingMethod: LinkingMethod;
  /** Lifetime of one QR / code attempt. Meta documents none; the article says "a minute or two". */
  linkingAttemptTtlMs: number;
  maxLinkingAttempts: number;
  /** Confirming the number on the Cloud API longer than this: `registration.stuck`. */
  registrationDeadlineMs: number;
  registrationPollIntervalMs: number;
  /** History requested and no `history` webhook at all for this long: "history never arrived". */
  historySilenceMs: number;
  /** Some history chunks, then none for this long: history incomplete. */
  historyStallMs: number;
  /** Payment missing: re-check Meta this often even without a `payment.added`. */
  paymentRecheckMs: number;
}

export const DEFAULT_ONBOARDING_SETTINGS: OnboardingSettings = {
  linkingMethod: 'qr',
  linkingAttemptTtlMs: 2 * 60_000,
  maxLinkingAttempts: 5,
  registrationDeadlineMs: 10 * 60_000,
  registrationPollIntervalMs: 15_000,
  historySilenceMs: 24 * 60 * 60_000,
  historyStallMs: 2 * 60 * 60_000,
  paymentRecheckMs: 60 * 60_000,
};

export interface OnboardingInput {
  /** E.164, e.g. +15550783881. */
  phoneNumber: string;
  settings?: Partial<OnboardingSettings>;
}

export const MIN_APP_VERSION = '2.24.17';

/** WhatsApp Business app version ≥ 2.24.17, compared number by number (2.24.9 < 2.24.17). */
export function isAppVersionSupported(version: string): boolean {
  const parts = version
    .trim()
    .split('.')
    .map((part) => (/^\d+$/.test(part) ? Number(part) : NaN));
  if (parts.some(Number.isNaN)) return false;
  const min = MIN_APP_VERSION.split('.').map(Number);
  for (let i = 0; i < Math.max(parts.length, min.length); i++) {
    const diff = (parts[i] ?? 0) - (min[i] ?? 0);
    if (diff !== 0) return diff > 0;
  }
  return true;
}

// --- stages -------------------------------------------------------------------------------------

export type Stage =
  | 'prerequisites'
  | 'signup'
  | 'linking'
  | 'registration'
  | 'sync'
  | 'payment'
  | 'active'
  | 'blocked'
  | 'cancelled'
  | 'offboarded';

/** Stages that can block, and that ops may `reset` a blocked onboarding to. */
export type BlockableStage = 'prerequisites' | 'signup' | 'linking' | 'registration';

/** The stage of a snapshot (or of the interpreter's view): its top-level state, also its tag. */
export function stageOf(snapshot: { value: StateValue }): Stage {
  const value = snapshot.value;
  return (typeof value === 'string' ? value : Object.keys(value)[0]) as Stage;
}

// --- events -------------------------------------------------------------------------------------

export type OnboardingEvent =
  // From the backend (`at`: epoch ms).
  | {
      type: 'prerequisites.report';
      appVersion: string;
      hasBusinessPortfolio: boolean;
      connectedElsewhere: boolean;
      hasPaymentMethod?: boolean;
      at?: number;
    }
  /** FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING (only waba_id) joined with the FB.login code. */
  | { type: 'signup.finished'; wabaId: string; code: string; phoneNumberId?: string; at: number }
  /** CANCEL: with `errorCode` the user hit an Embedded Signup error (Meta sends it as a string). */
  | {
      type: 'signup.cancelled';
      currentStep?: string;
      errorCode?: number | string;
      errorMessage?: string;
      sessionId?: string;
      at: number;
    }
  /** QR scanned from Linked devices, or verification code entered. */
  | { type: 'linking.confirmed'; method: LinkingMethod; at: number }
  /** A new attempt now (counts as one); `method` switches between QR and code. */
  | { type: 'linking.refresh'; method?: LinkingMethod; by?: string }
  /** A webhook showed the number on the Cloud API; fields, when given, must say so. */
  | { type: 'registration.confirmed'; isOnBizApp?: boolean; platformType?: string; at?: number }
  | { type: 'history.progress'; progress: number; phase: number; chunkOrder: number; at: number }
  /** `history` webhook with error 2593109: the business chose "Don't share chats". */
  | { type: 'history.declined'; at: number }
  | { type: 'payment.added'; at: number; by?: string }
  /** A send or status failed with a code that blocks sending (131042, 368, 131031). */
  | { type: 'send.refused'; code: number; at: number }
  | { type: 'statusCard.refresh'; by?: string }
  // Meta webhooks (`eventTime`: entry[].time, Unix seconds).
  | { type: 'account.qualityUpdate'; event?: string; messagingLimitTier?: string; qualityRating?: string; eventTime: number }
  | {
      type: 'account.nameUpdate';
      decision: string;
      requestedVerifiedName?: string;
      rejectionReason?: string | null;
      eventTime: number;
    }
  /** account_update: PARTNER_REMOVED (reason e.g. PRIMARY_INACTIVITY), ACCOUNT_OFFBOARDED, ACCOUNT_RECONNECTED, … */
  | { type: 'account.update'; event: string; reason?: string; initiatedBy?: string; eventTime: number }
  // Ops.
  | { type: 'cancel'; by?: string }
  | { type: 'retry'; by?: string }
  | { type: 'reset'; to: BlockableStage; by?: string };

// --- actors (activities) --------------------------------------------------------------------------

/** Meta's open enums: known values listed, anything else kept as Meta sent it. */
export type OpenEnum<T extends string> = T | (string & {});
export type CanSendMessage = OpenEnum<'AVAILABLE' | 'LIMITED' | 'BLOCKED'>;
export type SyncType = 'smb_app_state_sync' | 'history';

export interface ExchangeSignupCodeInput {
  code: string;
}
/** The business token, encrypted by the activity; the only form a token takes in a workflow. */
export interface ExchangeSignupCodeOutput {
  sealedToken: string;
}

export interface LookupPhoneNumberInput {
  wabaId: string;
  phoneNumber: string;
  sealedToken: string;
  /** From Embedded Signup when it sent one; the lookup still checks it against the WABA. */
  phoneNumberId?: string;
}
export interface LookupPhoneNumberOutput {
  phoneNumberId: string;
  displayPhoneNumber: string;
  isOnBizApp: boolean;
  platformType?: string;
}

export interface SubscribeAppInput {
  wabaId: string;
  sealedToken: string;
}
export type SubscribeAppOutput = void;

export interface CheckRegistrationInput {
  phoneNumberId: string;
  sealedToken: string;
}
export interface CheckRegistrationOutput {
  isOnBizApp: boolean;
  platformType: string;
  status?: string;
}

export interface RequestSyncInput {
  phoneNumberId: string;
  syncType: SyncType;
  sealedToken: string;
}
export interface RequestSyncOutput {
  requestId: string;
}

export interface CheckPaymentMethodInput {
  phoneNumberId: string;
  wabaId: string;
  sealedToken: string;
}
export interface CheckPaymentMethodOutput {
  canSendMessage: CanSendMessage;
  /** Health entity error 141006. */
  paymentMissing: boolean;
  errorCodes: number[];
}

export interface FetchStatusCardInput {
  phoneNumberId: string;
  sealedToken: string;
}
export interface FetchStatusCardOutput {
  displayName?: string;
  nameStatus?: string;
  qualityRating?: string;
  messagingLimitTier?: string;
  throughput?: string;
  status?: string;
  canSendMessage?: CanSendMessage;
  isOnBizApp?: boolean;
  platformType?: string;
}

// --- actions (activities) -------------------------------------------------------------------------

export interface StartLinkingAttemptParams {
  phoneNumber: string;
  attempt: number;
  maxAttempts: number;
  method: LinkingMethod;
  expiresInMs: number;
}

/** Backend callbacks. Type aliases (not interfaces) so each is a plain JSON record. */
export type NotifyBackendParams =
  | BlockedNotice
  | LinkingLapsedNotice
  | PaymentRequiredNotice
  | ActiveNotice
  | OffboardedNotice
  | SyncFailedNotice
  | HistoryOutcomeNotice;

export type BlockedNotice = {
  kind: 'blocked';
  phoneNumber: string;
  stage: BlockableStage;
  reason: BlockedReason;
  remedy: string;
  code?: number;
  detail?: string;
};
export type LinkingLapsedNotice = {
  kind: 'linkingLapsed';
  phoneNumber: string;
  lapsedAttempt: number;
  nextAttempt: number;
  maxAttempts: number;
  method: LinkingMethod;
  remedy: string;
};
export type PaymentRequiredNotice = { kind: 'paymentRequired'; phoneNumber: string; remedy: string };
export type ActiveNotice = {
  kind: 'active';
  phoneNumber: string;
  wabaId: string;
  phoneNumberId: string;
  displayPhoneNumber?: string;
};
export type OffboardedNotice = {
  kind: 'offboarded';
  phoneNumber: string;
  event: string;
  reason?: string;
  initiatedBy?: string;
  remedy: string;
};
export type SyncFailedNotice = {
  kind: 'syncFailed';
  phoneNumber: string;
  syncType: SyncType;
  reason: SyncFailureReason;
  code?: number;
  remedy: string;
};
export type HistoryOutcomeNotice = { kind: 'historyOutcome'; phoneNumber: string; outcome: HistoryOutcome; message: string };

// --- context --------------------------------------------------------------------------------------

export interface Blocked {
  reason: BlockedReason;
  remedy: string;
  stage: BlockableStage;
  /** Meta's error code (Embedded Signup or Graph) when there was one. */
  code?: number;
  /** Meta's own text, or the Embedded Signup step that was abandoned. */
  detail?: string;
}

export interface Warning {
  code: WarningCode;
  message: string;
}

export interface PrerequisitesReport {
  appVersion: string;
  hasBusinessPortfolio: boolean;
  connectedElsewhere: boolean;
  hasPaymentMethod?: boolean;
}

export interface SyncRequest {
  /** `requesting` from the moment the call is made: a request cut short counts as maybe sent. */
  status: 'not_requested' | 'requesting' | 'requested' | 'failed';
  requestId?: string;
  failure?: { reason: SyncFailureReason; code?: number; message: string; remedy: string };
}

export type HistoryStatus = 'not_requested' | 'awaiting' | 'receiving' | 'complete' | 'declined' | 'not_received' | 'incomplete';

export interface HistoryProgress {
  status: HistoryStatus;
  /** Overall percent (Meta's `progress`); chunks come out of order, so the highest seen. */
  progress: number;
  chunks: number;
  phase?: number;
  chunkOrder?: number;
  lastChunkAt?: number;
  declinedAt?: number;
}

export interface RegistrationProgress {
  checks: number;
  lastCheck?: CheckRegistrationOutput;
  lastError?: string;
  confirmedBy?: 'check' | 'webhook';
}

export interface PaymentProgress {
  /** Inferred (Meta offers no read): 141006 in health; undefined until first checked. */
  missing?: boolean;
  checks: number;
  lastCheck?: CheckPaymentMethodOutput;
  lastError?: string;
  addedAt?: number;
}

export interface StatusCard extends FetchStatusCardOutput {
  /** Last `phone_number_name_update` decision (APPROVED, DEFERRED, REJECTED, …). */
  nameDecision?: string;
  lastError?: string;
}

export interface SendingState {
  canSend: boolean;
  reason?: SendingBlockReason;
  remedy?: string;
}

export interface Offboarding {
  event: string;
  reason?: string;
  initiatedBy?: string;
  eventTime: number;
  remedy: string;
}

export interface OnboardingContext {
  phoneNumber: string;
  settings: OnboardingSettings;
  prerequisites?: PrerequisitesReport;
  warnings: Warning[];
  signupFinishedAt?: number;
  wabaId?: string;
  phoneNumberId?: string;
  displayPhoneNumber?: string;
  sealedToken?: string;
  linkingMethod: LinkingMethod;
  linkingAttempts: number;
  linkedAt?: number;
  registration: RegistrationProgress;
  contactsSync: SyncRequest;
  historySync: SyncRequest;
  history: HistoryProgress;
  payment: PaymentProgress;
  statusCard: StatusCard;
  /** Refusals (131042, 368, 131031) not resolved since. */
  unresolvedSendErrors: number[];
  sendingState: SendingState;
  /** Newest `account.update` eventTime applied (seconds); 0 before any. Older or equal ones are stale. */
  lastLifecycleEventTime: number;
  offboarding?: Offboarding;
  blocked?: Blocked;
  cancelledBy?: string;
}

// --- pure rules -----------------------------------------------------------------------------------

/** Coexistence on the Cloud API: still on the app and `platform_type` CLOUD_API. */
export function isOnCloudApiAndApp(n: { isOnBizApp?: boolean; platformType?: string }): boolean {
  return n.isOnBizApp === true && n.platformType === 'CLOUD_API';
}

const DISCONNECTIONS = ['PARTNER_REMOVED', 'ACCOUNT_OFFBOARDED'];
const RECONNECTION = 'ACCOUNT_RECONNECTED';

/** The card's "Sending state": Active, or the first reason it cannot send (meta-reference §6). */
export function sendingStateOf(
  c: Pick<OnboardingContext, 'offboarding' | 'payment' | 'unresolvedSendErrors' | 'statusCard'>,
): SendingState {
  const reason = firstSendingBlock(c);
  return reason === undefined ? { canSend: true } : { canSend: false, reason, remedy: SENDING_BLOCKS[reason].remedy };
}

function firstSendingBlock(
  c: Pick<OnboardingContext, 'offboarding' | 'payment' | 'unresolvedSendErrors' | 'statusCard'>,
): SendingBlockReason | undefined {
  if (c.offboarding) return 'offboarded';
  if (c.payment.missing === true) return 'payment_missing';
  const refused = [PAYMENT_REFUSAL_CODE, 368, 131031].find((code) => c.unresolvedSendErrors.includes(code));
  if (refused !== undefined) return SEND_REFUSAL_REASONS[refused];
  const card = c.statusCard;
  if (card.status === undefined) return 'status_unknown';
  if (card.status !== 'CONNECTED') return 'number_not_connected';
  if (!isOnCloudApiAndApp(card)) return 'coexistence_inactive';
  if (card.canSendMessage === 'BLOCKED') return 'health_blocked';
  return undefined;
}

/** Older APIs say TIER_1K where webhooks and newer APIs say TIER_2K. */
function normaliseTier(tier: string | undefined): string | undefined {
  return tier === 'TIER_1K' ? 'TIER_2K' : tier;
}

/** Coexistence numbers are fixed at 20 messages per second, whatever `throughput.level` says. */
export const COEXISTENCE_MESSAGES_PER_SECOND = 20;

/** The WhatsApp Account Status card on the main screen. */
export function statusCardOf(context: OnboardingContext) {
  const card = context.statusCard;
  return {
    displayName: card.displayName,
    nameStatus: card.nameStatus,
    qualityRating: card.qualityRating,
    messagingLimitTier: card.messagingLimitTier,
    throughput: { level: card.throughput, messagesPerSecond: COEXISTENCE_MESSAGES_PER_SECOND },
    sendingState: context.sendingState,
  };
}

function need<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`onboarding context has no ${name} yet`);
  return value;
}

function tokenOf(context: OnboardingContext) {
  return need(context.sealedToken, 'sealedToken');
}

function blockedByGraphError(stage: BlockableStage, error: unknown): BlockParams {
  const code = metaErrorCode(error);
  return { stage, reason: graphErrorReason(code), ...(code !== undefined ? { code } : {}), detail: errorMessage(error) };
}

function errorMessage(error: unknown): string {
  return (error as { message?: unknown } | undefined)?.message?.toString() ?? 'unknown error';
}

function syncFailure(error: unknown): SyncRequest {
  const code = metaErrorCode(error);
  const reason = syncFailureReason(code);
  return {
    status: 'failed',
    failure: {
      reason,
      ...(code !== undefined ? { code } : {}),
      message: errorMessage(error),
      remedy: SYNC_FAILURES[reason].remedy,
    },
  };
}

/** Everything one Embedded Signup produces; a new signup starts from this. */
function freshOnboarding(settings: OnboardingSettings) {
  return {
    signupFinishedAt: undefined,
    wabaId: undefined,
    phoneNumberId: undefined,
    displayPhoneNumber: undefined,
    sealedToken: undefined,
    linkingMethod: settings.linkingMethod,
    linkingAttempts: 0,
    linkedAt: undefined,
    registration: { checks: 0 },
    contactsSync: { status: 'not_requested' },
    historySync: { status: 'not_requested' },
    history: { status: 'not_requested', progress: 0, chunks: 0 },
    payment: { checks: 0 },
    statusCard: {},
    unresolvedSendErrors: [],
    offboarding: undefined,
  } satisfies Partial<OnboardingContext>;
}

function withSendingState(context: OnboardingContext, patch: Partial<OnboardingContext>): Partial<OnboardingContext> {
  return { ...patch, sendingState: sendingStateOf({ ...context, ...patch }) };
}

function registrationChecked(context: OnboardingContext, result: Partial<RegistrationProgress>): Partial<OnboardingContext> {
  return { registration: { ...context.registration, checks: context.registration.checks + 1, ...result } };
}

function paymentChecked(context: OnboardingContext, output: CheckPaymentMethodOutput): Partial<OnboardingContext> {
  return withSendingState(context, {
    payment: {
      ...context.payment,
      missing: output.paymentMissing,
      checks: context.payment.checks + 1,
      lastCheck: output,
      lastError: undefined,
    },
  });
}

// --- backend notices --------------------------------------------------------------------------------

function blockedNotice(context: OnboardingContext): BlockedNotice {
  const blocked = need(context.blocked, 'blocked');
  return { kind: 'blocked', phoneNumber: context.phoneNumber, ...blocked };
}

function linkingLapsedNotice(context: OnboardingContext): LinkingLapsedNotice {
  return {
    kind: 'linkingLapsed',
    phoneNumber: context.phoneNumber,
    lapsedAttempt: context.linkingAttempts,
    nextAttempt: context.linkingAttempts + 1,
    maxAttempts: context.settings.maxLinkingAttempts,
    method: context.linkingMethod,
    remedy: linkingLapsedRemedy(context.linkingMethod),
  };
}

function paymentRequiredNotice(context: OnboardingContext): PaymentRequiredNotice {
  return { kind: 'paymentRequired', phoneNumber: context.phoneNumber, remedy: SENDING_BLOCKS.payment_missing.remedy };
}

function historyOutcomeNotice(context: OnboardingContext): HistoryOutcomeNotice {
  const outcome = context.history.status as HistoryOutcome;
  return { kind: 'historyOutcome', phoneNumber: context.phoneNumber, outcome, message: HISTORY_OUTCOMES[outcome] };
}

function syncFailedNotice(context: OnboardingContext, syncType: SyncType): SyncFailedNotice {
  const failure = need((syncType === 'history' ? context.historySync : context.contactsSync).failure, 'sync failure');
  return {
    kind: 'syncFailed',
    phoneNumber: context.phoneNumber,
    syncType,
    reason: failure.reason,
    ...(failure.code !== undefined ? { code: failure.code } : {}),
    remedy: failure.remedy,
  };
}

// --- machine --------------------------------------------------------------------------------------

export interface BlockParams {
  stage: BlockableStage;
  reason: BlockedReason;
  code?: number;
  detail?: string;
}

const activity = <TOutput, TInput>(name: string) => fromPromise<TOutput, TInput>(async () => runsAsActivity(name));

const HISTORY_SETTLED: HistoryStatus[] = ['complete', 'declined'];

const historyVerdict = (status: 'not_received' | 'incomplete') =>
  ({
    target: 'idle',
    actions: [
      { type: 'markHistory', params: { status } },
      { type: 'notifyBackend', params: ({ context }: { context: OnboardingContext }) => historyOutcomeNotice(context) },
    ],
  }) as const;

/**
 * Follows chat history once requested: silence → not received, stall → incomplete, progress 100
 * → complete, 2593109 → declined. Late chunks after a silence or stall verdict are still recorded
 * and revive it; after complete or declined they are only recorded.
 */
const historyEvents = {
  'history.progress': [
    { guard: 'historySettled', actions: 'recordHistoryChunk' },
    {
      guard: 'historyChunkCompletes',
      target: '.idle',
      actions: [
        'recordHistoryChunk',
        { type: 'notifyBackend', params: ({ context }: { context: OnboardingContext }) => historyOutcomeNotice(context) },
      ],
    },
    { target: '.receiving', actions: 'recordHistoryChunk' },
  ],
  'history.declined': {
    guard: not('historySettled'),
    target: '.idle',
    actions: [
      'recordHistoryDeclined',
      { type: 'notifyBackend', params: ({ context }: { context: OnboardingContext }) => historyOutcomeNotice(context) },
    ],
  },
} as const;

const historyReceiving = {
  after: {
    historyStall: {
      target: 'idle',
      actions: [
        { type: 'markHistory', params: { status: 'incomplete' } },
        { type: 'notifyBackend', params: ({ context }: { context: OnboardingContext }) => historyOutcomeNotice(context) },
      ],
    },
  },
} as const;

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
    awaitingFirstChunk: {
      after: {
        historySilence: {
          target: 'idle',
          actions: [
            { type: 'markHistory', params: { status: 'not_received' } },
            { type: 'notifyBackend', params: ({ context }: { context: OnboardingContext }) => historyOutcomeNotice(context) },
          ],
        },
      },
    },
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

export const onboardingMachine = setup({
  types: {
    context: {} as OnboardingContext,
    events: {} as OnboardingEvent,
    input: {} as OnboardingInput,
    output: {} as { phoneNumber: string; cancelledBy?: string },
    tags: {} as Stage,
  },
  actions: {
    startLinkingAttempt: (_, _params: StartLinkingAttemptParams) => {},
    notifyBackend: (_, _params: NotifyBackendParams) => {},

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
    recordSignupFinished: assign(({ event }) => {
      assertEvent(event, 'signup.finished');
      return { wabaId: event.wabaId, phoneNumberId: event.phoneNumberId, signupFinishedAt: event.at };
    }),

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
      return {
        history: {
          ...context.history,
          status: settled ? context.history.status : progress >= 100 ? 'complete' : 'receiving',
          progress,
          chunks: context.history.chunks + 1,
          phase: event.phase,
          chunkOrder: event.chunkOrder,
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
    /** An on-demand refresh re-reads Meta: its health status replaces remembered 368 / 131031 refusals. */
    forgetPolicyRefusals: assign(({ context }) =>
      withSendingState(context, {
        unresolvedSendErrors: context.unresolvedSendErrors.filter((code) => code === PAYMENT_REFUSAL_CODE),
      }),
    ),

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
      const patch: Partial<OnboardingContext> = { lastLifecycleEventTime: event.eventTime };
      if (DISCONNECTIONS.includes(event.event)) {
        patch.offboarding = {
          event: event.event,
          ...(event.reason !== undefined ? { reason: event.reason } : {}),
          ...(event.initiatedBy !== undefined ? { initiatedBy: event.initiatedBy } : {}),
          eventTime: event.eventTime,
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
    exchangeSignupCode: activity<ExchangeSignupCodeOutput, ExchangeSignupCodeInput>('exchangeSignupCode'),
    lookupPhoneNumber: activity<LookupPhoneNumberOutput, LookupPhoneNumberInput>('lookupPhoneNumber'),
    subscribeApp: activity<SubscribeAppOutput, SubscribeAppInput>('subscribeApp'),
    checkRegistration: activity<CheckRegistrationOutput, CheckRegistrationInput>('checkRegistration'),
    requestSync: activity<RequestSyncOutput, RequestSyncInput>('requestSync'),
    checkPaymentMethod: activity<CheckPaymentMethodOutput, CheckPaymentMethodInput>('checkPaymentMethod'),
    fetchStatusCard: activity<FetchStatusCardOutput, FetchStatusCardInput>('fetchStatusCard'),
  },
  guards: {
    appTooOld: ({ event }) => event.type === 'prerequisites.report' && !isAppVersionSupported(event.appVersion),
    lacksBusinessPortfolio: ({ event }) => event.type === 'prerequisites.report' && !event.hasBusinessPortfolio,
    connectedElsewhere: ({ event }) => event.type === 'prerequisites.report' && event.connectedElsewhere,

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
    isSendingBlockRefusal: ({ event }) => event.type === 'send.refused' && event.code in SEND_REFUSAL_REASONS,

    isNewerLifecycleEvent: ({ context, event }) =>
      event.type === 'account.update' && event.eventTime > context.lastLifecycleEventTime,
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
  },
}).createMachine({
  id: 'onboarding',
  initial: 'prerequisites',
  context: ({ input }) => {
    const settings = { ...DEFAULT_ONBOARDING_SETTINGS, ...definedOnly(input.settings ?? {}) };
    const context: OnboardingContext = {
      phoneNumber: input.phoneNumber,
      settings,
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
        awaitingResult: {
          on: {
            'signup.finished': { target: 'exchangingCode', actions: 'recordSignupFinished' },
            'signup.cancelled': [
              {
                guard: 'signupReportedError',
                target: '#onboarding.blocked',
                actions: {
                  type: 'block',
                  params: ({ event }) => {
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
                target: '#onboarding.blocked',
                actions: {
                  type: 'block',
                  params: ({ event }) => ({
                    stage: 'signup' as const,
                    reason: 'signup_abandoned' as const,
                    ...(event.currentStep !== undefined ? { detail: event.currentStep } : {}),
                  }),
                },
              },
            ],
          },
        },
        // The code lives about 30 seconds: exchanged the moment it arrives, never stored.
        exchangingCode: {
          invoke: {
            id: 'exchangeSignupCode',
            src: 'exchangeSignupCode',
            input: ({ event }) => {
              assertEvent(event, 'signup.finished');
              return { code: event.code };
            },
            onDone: { target: 'lookingUpNumber', actions: assign({ sealedToken: ({ event }) => event.output.sealedToken }) },
            // Expired or refused (100, 190, or no answer in time): only a new signup yields a code.
            onError: {
              target: '#onboarding.blocked',
              actions: {
                type: 'block',
                params: ({ event }) => {
                  const code = metaErrorCode(event.error);
                  return {
                    stage: 'signup' as const,
                    reason: 'signup_code_expired' as const,
                    ...(code !== undefined ? { code } : {}),
                    detail: errorMessage(event.error),
                  };
                },
              },
            },
          },
        },
        // Always looked up, even with an id from Embedded Signup: it proves the number is in this
        // WABA and still on the app, and gives its display form.
        lookingUpNumber: {
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
              {
                guard: ({ event }) => event.output.isOnBizApp,
                target: '#onboarding.linking',
                actions: assign({
                  phoneNumberId: ({ event }) => event.output.phoneNumberId,
                  displayPhoneNumber: ({ event }) => event.output.displayPhoneNumber,
                }),
              },
              {
                target: '#onboarding.blocked',
                actions: { type: 'block', params: { stage: 'signup', reason: 'not_on_business_app' } },
              },
            ],
            onError: {
              target: '#onboarding.blocked',
              actions: { type: 'block', params: ({ event }) => blockedByGraphError('signup', event.error) },
            },
          },
        },
      },
    },

    // The QR / code lives in Meta's hosted flow with no refresh API: attempts with our own TTL.
    linking: {
      tags: 'linking',
      entry: 'beginLinking',
      initial: 'attempt',
      on: {
        'linking.confirmed': { target: 'registration', actions: 'recordLinked' },
      },
      states: {
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
          entry: [
            { type: 'block', params: { stage: 'registration', reason: 'registration_not_confirmed' } },
            { type: 'notifyBackend', params: ({ context }) => blockedNotice(context) },
          ],
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
        'account.update': { guard: 'isNewerLifecycleEvent', actions: 'recordLifecycleEvent' },
        'account.qualityUpdate': { actions: 'recordQualityUpdate' },
        'account.nameUpdate': { actions: 'recordNameUpdate' },
      },
      states: {
        requests: {
          initial: 'next',
          states: {
            // Decided before a request starts, so no path ever asks Meta twice.
            next: {
              always: [
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
        'account.update': [
          { guard: and(['isNewerLifecycleEvent', 'isDisconnection']), target: 'offboarded', actions: 'recordLifecycleEvent' },
          { guard: 'isNewerLifecycleEvent', actions: 'recordLifecycleEvent' },
        ],
        'send.refused': { guard: 'isSendingBlockRefusal', actions: 'recordSendRefusal' },
        'account.qualityUpdate': { actions: 'recordQualityUpdate' },
        'account.nameUpdate': { actions: 'recordNameUpdate' },
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
        'account.update': [
          { guard: and(['isNewerLifecycleEvent', 'isDisconnection']), target: 'offboarded', actions: 'recordLifecycleEvent' },
          { guard: 'isNewerLifecycleEvent', actions: 'recordLifecycleEvent' },
        ],
      },
      states: {
        // The WhatsApp Account Status card: re-read on entry, on quality / name webhooks, on a new
        // send-error class, and on demand.
        statusCard: {
          initial: 'refreshing',
          on: {
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
          states: {
            refreshing: {
              invoke: {
                id: 'fetchStatusCard',
                src: 'fetchStatusCard',
                input: ({ context }) => ({
                  phoneNumberId: need(context.phoneNumberId, 'phoneNumberId'),
                  sealedToken: tokenOf(context),
                }),
                onDone: {
                  target: 'idle',
                  actions: assign(({ context, event }) =>
                    withSendingState(context, {
                      statusCard: {
                        ...context.statusCard,
                        ...definedOnly(event.output),
                        messagingLimitTier: normaliseTier(
                          event.output.messagingLimitTier ?? context.statusCard.messagingLimitTier,
                        ),
                        lastError: undefined,
                      },
                    }),
                  ),
                },
                onError: {
                  target: 'idle',
                  actions: assign({
                    statusCard: ({ context, event }) => ({ ...context.statusCard, lastError: errorMessage(event.error) }),
                  }),
                },
              },
            },
            idle: {},
          },
        },
        history: historyTracking,
      },
    },

    blocked: {
      tags: 'blocked',
      entry: { type: 'notifyBackend', params: ({ context }) => blockedNotice(context) },
      exit: 'clearBlocked',
      on: {
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
          { guard: 'isNewerLifecycleEvent', actions: 'recordLifecycleEvent' },
        ],
        'account.qualityUpdate': { actions: 'recordQualityUpdate' },
        'account.nameUpdate': { actions: 'recordNameUpdate' },
        retry: { guard: 'canReonboard', target: 'signup' },
      },
      states: {
        history: historyTracking,
      },
    },
  },
});

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export type OnboardingSnapshot = SnapshotFrom<typeof onboardingMachine>;
