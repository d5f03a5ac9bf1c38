import type { OnboardingEvent } from '../../machines/onboarding';
import type { OpsAction } from './schemas';

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
