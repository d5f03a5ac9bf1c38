/** What the API and ops show of an onboarding, read from its context. */
import { COEXISTENCE_MESSAGES_PER_SECOND } from '../meta-codes';
import type { OnboardingContext } from './context';

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
    /** When Meta last answered a read of the number (epoch ms). */
    lastReadAt: card.readAt,
    /** Contacts and history can be requested until then (epoch ms): 24 h from FINISH. */
    syncDeadline: context.syncDeadline,
  };
}
