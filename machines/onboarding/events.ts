import type { LinkingMethod } from './settings';
import type { BlockableStage } from './stages';

/** Everything the onboarding reacts to: the backend, Meta's webhooks and ops. */
export type OnboardingEvent =
  // From the backend (`at`: epoch ms).
  | {
      type: 'prerequisites.report';
      appVersion: string;
      hasBusinessPortfolio: boolean;
      connectedElsewhere: boolean;
      hasPaymentMethod?: boolean;
      at?: number;
    }
  /**
   * The Embedded Signup popup opened: a signup session starts, in which Meta shows the QR (or the
   * verification code) that the phone must scan before FINISH.
   */
  | { type: 'signup.started'; at: number; sessionId?: string }
  /**
   * FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING (only waba_id) joined with the FB.login code: the phone
   * scanned the code. In a running onboarding past signup, a re-authorisation.
   */
  | { type: 'signup.finished'; wabaId: string; code: string; phoneNumberId?: string; at: number }
  /** CANCEL: with `errorCode` the user hit an Embedded Signup error (Meta sends it as a string). */
  | {
      type: 'signup.cancelled';
      currentStep?: string;
      errorCode?: number | string;
      errorMessage?: string;
      sessionId?: string;
      at: number;
    }
  /** QR scanned from Linked devices, or verification code entered. */
  | { type: 'linking.confirmed'; method: LinkingMethod; at: number }
  /** A new attempt now (counts as one); `method` switches between QR and code. */
  | { type: 'linking.refresh'; method?: LinkingMethod; by?: string }
  /** A webhook showed the number on the Cloud API; fields, when given, must say so. */
  | { type: 'registration.confirmed'; isOnBizApp?: boolean; platformType?: string; at?: number }
  | { type: 'history.progress'; progress: number; phase: number; chunkOrder: number; at: number }
  /** `history` webhook with error 2593109: the business chose "Don't share chats". */
  | { type: 'history.declined'; at: number }
  | { type: 'payment.added'; at: number; by?: string }
  /** A send or status failed with a code that blocks sending (131042, 368, 131031). */
  | { type: 'send.refused'; code: number; at: number }
  | { type: 'statusCard.refresh'; by?: string }
  // Meta webhooks (`eventTime`: entry[].time, Unix seconds).
  | { type: 'account.qualityUpdate'; event?: string; messagingLimitTier?: string; qualityRating?: string; eventTime: number }
  | {
      type: 'account.nameUpdate';
      decision: string;
      requestedVerifiedName?: string;
      rejectionReason?: string | null;
      eventTime: number;
    }
  /**
   * account_update: PARTNER_REMOVED (reason e.g. PRIMARY_INACTIVITY), ACCOUNT_OFFBOARDED,
   * ACCOUNT_RECONNECTED, ACCOUNT_RESTRICTION, DISABLED_UPDATE, … `eventTime` is entry[].time when
   * Meta sent one (older routing sent 0 for none); `receivedAt` (epoch ms) when the API received it;
   * `detail`: the event's own info (restriction_info, ban_info, violation_info) as Meta sent it.
   */
  | {
      type: 'account.update';
      event: string;
      reason?: string;
      initiatedBy?: string;
      eventTime?: number;
      receivedAt?: number;
      detail?: string;
    }
  /** Raised by the onboarding itself when Meta's 24 h sync window has passed. */
  | { type: 'sync.windowClosed' }
  // Ops.
  | { type: 'cancel'; by?: string }
  | { type: 'retry'; by?: string }
  | { type: 'reset'; to: BlockableStage; by?: string };
