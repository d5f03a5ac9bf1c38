import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { AnyMachineSnapshot } from 'xstate';
import { onboardingMachine, stageOf, type OnboardingContext, type OnboardingInput } from '../machines/onboarding';
import { runMachine, type InterpreterOptions, type MachineWorkflowArgs } from './interpreter';
import { proxySinks, workflowInfo } from '@temporalio/workflow';
import type { CoexistSinks } from '../contracts/sinks';
import {
  LinkingAttempts,
  OnboardingBlockedReason,
  OnboardingPhoneNumber,
  OnboardingStage,
  OnboardingStageEnteredAt,
  PhoneNumberId,
  WabaId,
} from '../contracts/search-attributes';

/** Activity options by action / actor name; the reasons are Meta's (docs/meta.md#onboarding-calls-in-order, #contacts-and-history-sync). */
export const onboardingActivities: InterpreterOptions<typeof onboardingMachine>['activities'] = {
  // Meta calls: retried with backoff until they succeed or Meta answers with a non-retryable code.
  default: {
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  },
  // The authorization code dies after about 30 seconds: a few quick tries, then give up.
  exchangeSignupCode: {
    startToCloseTimeout: '10 seconds',
    scheduleToCloseTimeout: '25 seconds',
    retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumAttempts: 4 },
  },
  // Meta allows one sync request of each type; a retry would burn it (2593107). A timeout is
  // recorded as a failure ("maybe sent"), never repeated.
  requestSync: { startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 1 } },
  // The backend is told until it accepts.
  notifyBackend: {
    startToCloseTimeout: '15 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
  },
  startLinkingAttempt: {
    startToCloseTimeout: '15 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
  },
};

/** One live onboarding a number: its workflow id is `onboarding:<E.164>` (workflows/ids.ts). */
export async function onboardingWorkflow(args: MachineWorkflowArgs<OnboardingInput>) {
  return runMachine(
    { machine: onboardingMachine, activities: onboardingActivities, searchAttributes: onboardingSearchAttributes() },
    args,
  );
}

const { metrics } = proxySinks<CoexistSinks>();

/**
 * The onboarding's search attributes; the stage's entry time survives continue-as-new, which
 * carries them. A change of stage is also counted by the worker (a sink: nothing in the history).
 */
function onboardingSearchAttributes() {
  const current = workflowInfo().typedSearchAttributes;
  let stage: string | undefined = current.get(OnboardingStage);
  let enteredAt: Date | undefined = current.get(OnboardingStageEnteredAt);
  return (snapshot: AnyMachineSnapshot): SearchAttributeUpdatePair[] => {
    const c = snapshot.context as OnboardingContext;
    if (stageOf(snapshot) !== stage || !enteredAt) {
      if (stageOf(snapshot) !== stage) metrics.stageChanged(stage ?? null, stageOf(snapshot));
      stage = stageOf(snapshot);
      enteredAt = new Date(Date.now());
    }
    return [
      { key: OnboardingPhoneNumber, value: c.phoneNumber },
      { key: OnboardingStage, value: stage },
      { key: OnboardingStageEnteredAt, value: enteredAt },
      { key: OnboardingBlockedReason, value: c.blocked?.reason ?? null },
      { key: WabaId, value: c.wabaId ?? null },
      { key: PhoneNumberId, value: c.phoneNumberId ?? null },
      { key: LinkingAttempts, value: c.linkingAttempts },
    ] as SearchAttributeUpdatePair[];
  };
}
