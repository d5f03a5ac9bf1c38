import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { AnyMachineSnapshot } from 'xstate';
import {
  onboardingDedupeKey,
  onboardingMachine,
  SENDING_BLOCKS,
  stageOf,
  type OnboardingContext,
  type OnboardingInput,
} from '../machines/onboarding';
import type { NumberRegistryEntry } from '../contracts/number-registry';
import { runMachine, type InterpreterOptions, type MachineWorkflowArgs } from './interpreter';
import { patched, proxySinks, workflowInfo } from '@temporalio/workflow';
import type { CoexistSinks } from '../contracts/sinks';
import {
  LinkingAttempts,
  OnboardingBlockedReason,
  OnboardingPhoneNumber,
  OnboardingStage,
  OnboardingStageEnteredAt,
  OnboardingSyncDeadline,
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
  // The number registry, written until the message store takes it.
  recordNumber: {
    startToCloseTimeout: '10 seconds',
    retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
  },
};

/** Histories without this marker never wrote the number registry. */
export const NUMBER_REGISTRY_PATCH = 'number-registry';

/**
 * One live onboarding a number: its workflow id is `onboarding:<E.164>` (contracts/ids.ts).
 *
 * Versioning: the signup session (linking inside Embedded Signup, lifecycle events re-read from
 * Meta, the sync window and the card's schedule) changed which timers and activities the machine
 * starts. A new execution records the `signup-session` marker and runs the machine with
 * `flow: 'session'`; an execution whose history has no marker (started by older code) replays with
 * `flow: 'legacy'`, which keeps every older path of the machine. A run continued as new carries
 * its flow in the restored context, so the choice is made once, on a fresh start.
 *
 * A run with the `webhook-dedupe` marker drops Meta's redeliveries of its webhook events
 * (machines/onboarding/dedupe.ts); one without it replays as it ran, taking every one.
 */
export async function onboardingWorkflow(args: MachineWorkflowArgs<OnboardingInput>) {
  const input: OnboardingInput =
    args.carried || args.input.flow !== undefined
      ? args.input
      : { ...args.input, flow: patched('signup-session') ? 'session' : 'legacy' };
  const dedupeKey = patched('webhook-dedupe') ? onboardingDedupeKey : undefined;
  return runMachine(
    {
      machine: onboardingMachine,
      activities: onboardingActivities,
      searchAttributes: onboardingSearchAttributes(),
      ...(dedupeKey ? { dedupeKey } : {}),
      mirror: { activity: 'recordNumber', patch: NUMBER_REGISTRY_PATCH, of: numberRegistryEntry },
    },
    { ...args, input },
  );
}

const { metrics } = proxySinks<CoexistSinks>();

/**
 * What the number registry keeps of this onboarding (store/number-registry.ts): its WABA and
 * display number, its sending state as the card shows it and the sealed token, once the number is
 * known (the WABA id comes with the phone_number_id, so the entry changes no more often than before). An onboarding that ended
 * (cancelled) leaves its number unable to send.
 */
function numberRegistryEntry(snapshot: AnyMachineSnapshot): NumberRegistryEntry | undefined {
  const c = snapshot.context as OnboardingContext;
  if (c.phoneNumberId === undefined) return undefined;
  const sending =
    snapshot.status === 'active'
      ? c.sendingState
      : { canSend: false, reason: 'offboarded', remedy: SENDING_BLOCKS.offboarded.remedy };
  return {
    phoneNumberId: c.phoneNumberId,
    onboardingWorkflowId: workflowInfo().workflowId,
    ...(c.wabaId !== undefined ? { wabaId: c.wabaId } : {}),
    displayPhoneNumber: c.phoneNumber,
    canSend: sending.canSend,
    ...(sending.reason !== undefined ? { reason: sending.reason } : {}),
    ...(sending.remedy !== undefined ? { remedy: sending.remedy } : {}),
    ...(c.sealedToken !== undefined ? { sealedToken: c.sealedToken } : {}),
  };
}

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
      // Session flow only: older histories never upserted it.
      ...(c.flow === 'session' ? [{ key: OnboardingSyncDeadline, value: c.syncDeadline ? new Date(c.syncDeadline) : null }] : []),
    ] as SearchAttributeUpdatePair[];
  };
}
