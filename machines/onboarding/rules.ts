/** The onboarding's pure rules: what the machine decides with, free of XState. */
import { metaErrorCode } from '../interpreter-contract';
import { graphErrorReason, isAuthorizationErrorCode, SEND_REFUSALS, syncFailureReason } from '../meta-codes';
import type {
  BlockParams,
  Enforcement,
  LifecycleRecord,
  OnboardingContext,
  RegistrationProgress,
  SendingState,
  StatusCard,
  SyncRequest,
} from './context';
import type { CheckPaymentMethodOutput } from './effects';
import type { OnboardingEvent } from './events';
import { SENDING_BLOCKS, SYNC_FAILURES, type SendingBlockReason } from './remedies';
import type { OnboardingSettings } from './settings';
import type { BlockableStage } from './stages';

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

/** Coexistence on the Cloud API: still on the app and `platform_type` CLOUD_API. */
export function isOnCloudApiAndApp(n: { isOnBizApp?: boolean; platformType?: string }): boolean {
  return n.isOnBizApp === true && n.platformType === 'CLOUD_API';
}

export const DISCONNECTIONS = ['PARTNER_REMOVED', 'ACCOUNT_OFFBOARDED'];
export const RECONNECTION = 'ACCOUNT_RECONNECTED';

/** account_update events by which Meta enforces its policies, with the sending state each one sets. */
export const ENFORCEMENTS = {
  ACCOUNT_DELETED: 'account_deleted',
  DISABLED_UPDATE: 'account_disabled',
  ACCOUNT_RESTRICTION: 'account_restricted',
  ACCOUNT_VIOLATION: 'account_violation',
} as const satisfies Record<string, SendingBlockReason>;

export function isEnforcement(event: string): event is keyof typeof ENFORCEMENTS {
  return event in ENFORCEMENTS;
}

type SendingFacts = Pick<OnboardingContext, 'offboarding' | 'payment' | 'unresolvedSendErrors' | 'statusCard'> & {
  enforcement?: Enforcement;
};

/** The card's "Sending state": Active, or the first reason it cannot send (docs/meta.md#status-card). */
export function sendingStateOf(c: SendingFacts): SendingState {
  const reason = firstSendingBlock(c);
  return reason === undefined ? { canSend: true } : { canSend: false, reason, remedy: SENDING_BLOCKS[reason].remedy };
}

function firstSendingBlock(c: SendingFacts): SendingBlockReason | undefined {
  if (c.offboarding) return 'offboarded';
  const access = c.unresolvedSendErrors.find(isAuthorizationErrorCode);
  if (access !== undefined)
    return graphErrorReason(access) === 'permission_missing' ? 'permission_missing' : 'reauthorization_required';
  if (c.enforcement && isEnforcement(c.enforcement.event)) return ENFORCEMENTS[c.enforcement.event];
  if (c.payment.missing === true) return 'payment_missing';
  const refused = SEND_REFUSALS.find(({ code }) => c.unresolvedSendErrors.includes(code));
  if (refused !== undefined) return refused.reason;
  const card = c.statusCard;
  if (card.status === undefined) return 'status_unknown';
  if (card.status !== 'CONNECTED') return 'number_not_connected';
  if (!isOnCloudApiAndApp(card)) return 'coexistence_inactive';
  if (card.canSendMessage === 'BLOCKED') return 'health_blocked';
  return undefined;
}

/** Older APIs say TIER_1K where webhooks and newer APIs say TIER_2K. */
export function normaliseTier(tier: string | undefined): string | undefined {
  return tier === 'TIER_1K' ? 'TIER_2K' : tier;
}

export function need<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`onboarding context has no ${name} yet`);
  return value;
}

export function tokenOf(context: OnboardingContext) {
  return need(context.sealedToken, 'sealedToken');
}

export function blockedByGraphError(stage: BlockableStage, error: unknown): BlockParams {
  const code = metaErrorCode(error);
  return { stage, reason: graphErrorReason(code), ...(code !== undefined ? { code } : {}), detail: errorMessage(error) };
}

export function errorMessage(error: unknown): string {
  return (error as { message?: unknown } | undefined)?.message?.toString() ?? 'unknown error';
}

export function syncFailure(error: unknown): SyncRequest {
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

/** Contacts and history not requested because Meta's 24 h window had passed: recorded as Meta's 2593108 would be. */
export function syncWindowPassed(): SyncRequest {
  return {
    status: 'failed',
    failure: {
      reason: 'sync_window_passed',
      message: 'not requested: more than 24 hours since the signup finished',
      remedy: SYNC_FAILURES.sync_window_passed.remedy,
    },
  };
}

// --- lifecycle events (session flow) -------------------------------------------------------------

type AccountUpdate = Extract<OnboardingEvent, { type: 'account.update' }>;

/** The event as recorded: a missing (or 0) entry[].time is the time it was received. */
export function lifecycleRecordOf(event: AccountUpdate): LifecycleRecord {
  const sent = event.eventTime !== undefined && event.eventTime > 0;
  const time = sent ? event.eventTime! : Math.floor((event.receivedAt ?? 0) / 1000);
  return {
    event: event.event,
    time,
    ...(sent ? {} : { timeMissing: true as const }),
    ...(event.reason !== undefined ? { reason: event.reason } : {}),
    ...(event.initiatedBy !== undefined ? { initiatedBy: event.initiatedBy } : {}),
    ...(event.detail !== undefined ? { detail: event.detail } : {}),
  };
}

const sameRecord = (a: LifecycleRecord, b: LifecycleRecord) =>
  a.event === b.event && a.time === b.time && a.reason === b.reason && a.initiatedBy === b.initiatedBy && a.detail === b.detail;

/** Same kind, same time, same payload as one already recorded: recorded once. */
export function isRepeatedLifecycleEvent(context: OnboardingContext, event: AccountUpdate): boolean {
  const record = lifecycleRecordOf(event);
  return context.lifecycleEvents.some((seen) => sameRecord(seen, record));
}

const LIFECYCLE_KEPT = 50;

/**
 * Records an account_update and applies it by the fallback rules, used where no read of Meta
 * settles it: an older event of the same kind is stale; events of different kinds never fence each
 * other; events in the same second apply in arrival order. A disconnection or reconnection becomes
 * the pending change of stage; an enforcement sets (or lifts) the sending block.
 */
export function recordLifecycle(context: OnboardingContext, event: AccountUpdate): Partial<OnboardingContext> {
  const record = lifecycleRecordOf(event);
  const stale = record.time < (context.lifecycleFence[record.event] ?? 0);
  const patch: Partial<OnboardingContext> = {
    lifecycleEvents: [...context.lifecycleEvents, stale ? { ...record, stale: true as const } : record].slice(-LIFECYCLE_KEPT),
  };
  if (stale) return patch;
  patch.lifecycleFence = { ...context.lifecycleFence, [record.event]: record.time };
  if (DISCONNECTIONS.includes(record.event) || record.event === RECONNECTION) patch.pendingLifecycle = record;
  if (isEnforcement(record.event)) {
    patch.enforcement = liftsEnforcement(event)
      ? undefined
      : { event: record.event, time: record.time, ...(record.detail ? { detail: record.detail } : {}) };
  }
  return withSendingState(context, patch);
}

/** A restriction with no restriction left, or a ban lifted (REINSTATE). */
function liftsEnforcement(event: AccountUpdate): boolean {
  if (event.event === 'ACCOUNT_RESTRICTION') return event.detail === undefined || event.detail === '[]';
  if (event.event === 'DISABLED_UPDATE') return event.detail?.includes('REINSTATE') ?? false;
  return false;
}

/** What a read of the number says about coexistence: the truth a lifecycle event is checked against. */
export function readVerdict(card: StatusCard): 'connected' | 'disconnected' | 'unknown' {
  if (card.isOnBizApp === false) return 'disconnected';
  if (card.platformType !== undefined && card.platformType !== 'CLOUD_API') return 'disconnected';
  if (card.status === 'DISCONNECTED') return 'disconnected';
  if (isOnCloudApiAndApp(card) && (card.status === undefined || card.status === 'CONNECTED')) return 'connected';
  return 'unknown';
}

/** The offboarding a read (or the pending event) shows. */
export function offboardingOf(pending: LifecycleRecord | undefined, remedy: (event: string, reason?: string) => string) {
  const record = pending && DISCONNECTIONS.includes(pending.event) ? pending : undefined;
  const event = record?.event ?? 'PARTNER_REMOVED';
  return {
    event,
    ...(record?.reason !== undefined ? { reason: record.reason } : {}),
    ...(record?.initiatedBy !== undefined ? { initiatedBy: record.initiatedBy } : {}),
    eventTime: record?.time ?? 0,
    remedy: remedy(event, record?.reason),
  };
}

/** Everything one Embedded Signup produces; a new signup starts from this. */
export function freshOnboarding(settings: OnboardingSettings) {
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
    signupStartedAt: undefined,
    syncDeadline: undefined,
    syncWindowClosed: undefined,
    pendingLifecycle: undefined,
    enforcement: undefined,
  } satisfies Partial<OnboardingContext>;
}

export function withSendingState(context: OnboardingContext, patch: Partial<OnboardingContext>): Partial<OnboardingContext> {
  return { ...patch, sendingState: sendingStateOf({ ...context, ...patch }) };
}

export function registrationChecked(
  context: OnboardingContext,
  result: Partial<RegistrationProgress>,
): Partial<OnboardingContext> {
  return { registration: { ...context.registration, checks: context.registration.checks + 1, ...result } };
}

export function paymentChecked(context: OnboardingContext, output: CheckPaymentMethodOutput): Partial<OnboardingContext> {
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
