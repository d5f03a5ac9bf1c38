/**
 * What the backend is told (NotifyBackendParams, POSTed to BACKEND_CALLBACK_URL), and how each
 * notice is built from the onboarding's context.
 */
import type { OnboardingContext } from './context';
import type { SyncType } from './effects';
import {
  HISTORY_OUTCOMES,
  SENDING_BLOCKS,
  linkingLapsedRemedy,
  type BlockedReason,
  type HistoryOutcome,
  type SendingBlockReason,
  type SyncFailureReason,
} from './remedies';
import { need } from './rules';
import type { LinkingMethod } from './settings';
import type { BlockableStage } from './stages';

/** Backend callbacks. Type aliases (not interfaces) so each is a plain JSON record. */
export type NotifyBackendParams =
  | BlockedNotice
  | LinkingLapsedNotice
  | PaymentRequiredNotice
  | ActiveNotice
  | OffboardedNotice
  | SyncFailedNotice
  | HistoryOutcomeNotice
  | SendingStateNotice;

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
/** The number's sending state changed by an enforcement or lost access (or its lifting). */
export type SendingStateNotice = {
  kind: 'sendingState';
  phoneNumber: string;
  canSend: boolean;
  reason?: SendingBlockReason;
  remedy?: string;
};
export type HistoryOutcomeNotice = { kind: 'historyOutcome'; phoneNumber: string; outcome: HistoryOutcome; message: string };

export function blockedNotice(context: OnboardingContext): BlockedNotice {
  const blocked = need(context.blocked, 'blocked');
  return { kind: 'blocked', phoneNumber: context.phoneNumber, ...blocked };
}

export function linkingLapsedNotice(context: OnboardingContext): LinkingLapsedNotice {
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

export function paymentRequiredNotice(context: OnboardingContext): PaymentRequiredNotice {
  return { kind: 'paymentRequired', phoneNumber: context.phoneNumber, remedy: SENDING_BLOCKS.payment_missing.remedy };
}

export function historyOutcomeNotice(context: OnboardingContext): HistoryOutcomeNotice {
  const outcome = context.history.status as HistoryOutcome;
  return { kind: 'historyOutcome', phoneNumber: context.phoneNumber, outcome, message: HISTORY_OUTCOMES[outcome] };
}

export function syncFailedNotice(context: OnboardingContext, syncType: SyncType): SyncFailedNotice {
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

export function sendingStateNotice(context: OnboardingContext): SendingStateNotice {
  return { kind: 'sendingState', phoneNumber: context.phoneNumber, ...context.sendingState };
}
