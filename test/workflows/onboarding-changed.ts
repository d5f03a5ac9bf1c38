/**
 * The onboarding workflow type with a deliberately breaking machine change: a number reported as
 * connected elsewhere is blocked whatever the report says, so a recorded happy path takes another
 * road (a `blocked` callback where the history has the code exchange).
 */
import { onboardingMachine, type OnboardingInput } from '../../machines/onboarding';
import { runMachine, type MachineWorkflowArgs } from '../../workflows/interpreter';
import { onboardingActivities } from '../../workflows/onboarding';

const changedMachine = onboardingMachine.provide({ guards: { connectedElsewhere: () => true } });

export async function onboardingWorkflow(args: MachineWorkflowArgs<OnboardingInput>) {
  return runMachine({ machine: changedMachine, activities: onboardingActivities }, args);
}
