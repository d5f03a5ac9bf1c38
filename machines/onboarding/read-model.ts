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

/**
 * What the number registry (store/number-registry.ts) keeps of an onboarding that holds a number:
 * its WABA and display number, its sending state as the card shows it and the sealed token. The
 * onboarding writes it through its `recordNumber` activity; webhooks are routed by it and the
 * sender reads its token there.
 */
export interface NumberRegistryEntry {
  phoneNumberId: string;
  onboardingWorkflowId: string;
  /** The WhatsApp Business Account the number belongs to (absent in entries written before it was kept). */
  wabaId?: string;
  /** The number as people dial it (E.164), as the onboarding was started for it. */
  displayPhoneNumber?: string;
  canSend: boolean;
  /** The sending-block reason while `canSend` is false (`payment_missing`, `offboarded`, ...). */
  reason?: string;
  remedy?: string;
  /** Sealed with TOKEN_SEALING_KEY; absent before the signup code was exchanged. */
  sealedToken?: string;
}
