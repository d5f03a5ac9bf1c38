/** How each notice the backend is told (./effects, NotifyBackendParams) is built from the onboarding's context. */
import type { OnboardingContext } from './context';
import type {
  BlockedNotice,
  HistoryOutcomeNotice,
  LinkingLapsedNotice,
  PaymentRequiredNotice,
  SendingStateNotice,
  SyncFailedNotice,
  SyncType,
} from './effects';
import { HISTORY_OUTCOMES, SENDING_BLOCKS, linkingLapsedRemedy, type HistoryOutcome } from './remedies';
import { need } from './rules';

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
