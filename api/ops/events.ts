import { BLOCKABLE_STAGES, onboardingMachine, type OnboardingContext, type OnboardingEvent } from '../../machines/onboarding';
import type { MachineView } from '../../contracts/machine-api';
import { actionSchema, type OpsAction } from './schemas';

/** What an operator's repair means to the onboarding machine, recorded with who asked (`by`). */
export function repairEvent(action: OpsAction, by: string, at: number): OnboardingEvent {
  switch (action.action) {
    case 'retry':
      return { type: 'retry', by };
    case 'refreshLinking':
      return { type: 'linking.refresh', by };
    case 'refreshStatusCard':
      return { type: 'statusCard.refresh', by };
    case 'recheckPayment':
      return { type: 'payment.added', at, by };
    case 'cancel':
      return { type: 'cancel', by };
    case 'reset':
      return { type: 'reset', to: action.to, by };
  }
}

/** Every repair an operator can ask for, read from the action schema (a reset once per stage it may go to). */
export const OPS_ACTIONS: OpsAction[] = actionSchema.options.flatMap((option): OpsAction[] => {
  const action = option.shape.action.value;
  return action === 'reset' ? BLOCKABLE_STAGES.map((to) => ({ action, to })) : [{ action } as OpsAction];
});

/**
 * The repairs the onboarding's current state accepts, asked of the machine as the workflow's
 * Update validator asks it: the state is active and `snapshot.can(event)`.
 */
export function acceptedActions(
  view: Pick<MachineView<OnboardingContext>, 'value' | 'context' | 'status'>,
  at: number,
): OpsAction[] {
  if (view.status !== 'active') return [];
  const snapshot = onboardingMachine.resolveState({ value: view.value, context: view.context });
  return OPS_ACTIONS.filter((action) => snapshot.can(repairEvent(action, 'ops', at)));
}
