/** The onboarding's pure rules: what the machine decides with, free of XState. */
import { metaErrorCode } from '../interpreter-contract';
import { graphErrorReason, SEND_REFUSALS, syncFailureReason } from '../meta-codes';
import type { BlockParams, OnboardingContext, RegistrationProgress, SendingState, SyncRequest } from './context';
import type { CheckPaymentMethodOutput } from './effects';
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

/** The card's "Sending state": Active, or the first reason it cannot send (docs/meta.md#status-card). */
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
