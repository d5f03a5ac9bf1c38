/**
 * What the onboarding machine asks the world to do: every invoked actor (a Meta call) and every
 * custom action (a backend callback) with its input and output. The durable interpreter runs each
 * as the activity of the same name; activities/onboarding.ts `satisfies OnboardingEffects`, and the
 * machine's actor and action names are typed from it, so a renamed or missing activity fails tsc.
 */
import type { BlockedReason, HistoryOutcome, SendingBlockReason, SyncFailureReason } from './remedies';
import type { LinkingMethod } from './settings';
import type { BlockableStage } from './stages';

export interface OnboardingEffects {
  // Meta's Graph API (invoked actors: their result or failure comes back as an event).
  exchangeSignupCode(input: ExchangeSignupCodeInput): Promise<ExchangeSignupCodeOutput>;
  lookupPhoneNumber(input: LookupPhoneNumberInput): Promise<LookupPhoneNumberOutput>;
  subscribeApp(input: SubscribeAppInput): Promise<SubscribeAppOutput>;
  checkRegistration(input: CheckRegistrationInput): Promise<CheckRegistrationOutput>;
  requestSync(input: RequestSyncInput): Promise<RequestSyncOutput>;
  checkPaymentMethod(input: CheckPaymentMethodInput): Promise<CheckPaymentMethodOutput>;
  fetchStatusCard(input: FetchStatusCardInput): Promise<FetchStatusCardOutput>;
  // The backend (custom actions: fire and forget, retried until done).
  startLinkingAttempt(params: StartLinkingAttemptParams): Promise<void>;
  notifyBackend(params: NotifyBackendParams): Promise<void>;
}

/** Meta's open enums: known values listed, anything else kept as Meta sent it. */
export type OpenEnum<T extends string> = T | (string & {});
export type CanSendMessage = OpenEnum<'AVAILABLE' | 'LIMITED' | 'BLOCKED'>;
export type SyncType = 'smb_app_state_sync' | 'history';

export interface ExchangeSignupCodeInput {
  code: string;
}
/** The business token, encrypted by the activity; the only form a token takes in a workflow. */
export interface ExchangeSignupCodeOutput {
  sealedToken: string;
}

export interface LookupPhoneNumberInput {
  wabaId: string;
  phoneNumber: string;
  sealedToken: string;
  /** From Embedded Signup when it sent one; the lookup still checks it against the WABA. */
  phoneNumberId?: string;
}
/**
 * The number the onboarding started, found in the WABA; or, when the WABA does not list it,
 * `found: false` with the numbers it does list (never another number in its place).
 */
export type LookupPhoneNumberOutput =
  | { found?: true; phoneNumberId: string; displayPhoneNumber: string; isOnBizApp: boolean; platformType?: string }
  | { found: false; listed: string[] };

export interface SubscribeAppInput {
  wabaId: string;
  sealedToken: string;
}
export type SubscribeAppOutput = void;

export interface CheckRegistrationInput {
  phoneNumberId: string;
  sealedToken: string;
}
export interface CheckRegistrationOutput {
  isOnBizApp: boolean;
  platformType: string;
  status?: string;
}

export interface RequestSyncInput {
  phoneNumberId: string;
  syncType: SyncType;
  sealedToken: string;
}
export interface RequestSyncOutput {
  requestId: string;
}

export interface CheckPaymentMethodInput {
  phoneNumberId: string;
  wabaId: string;
  sealedToken: string;
}
export interface CheckPaymentMethodOutput {
  canSendMessage: CanSendMessage;
  /** Health entity error 141006. */
  paymentMissing: boolean;
  errorCodes: number[];
}

export interface FetchStatusCardInput {
  phoneNumberId: string;
  sealedToken: string;
}
export interface FetchStatusCardOutput {
  displayName?: string;
  nameStatus?: string;
  qualityRating?: string;
  messagingLimitTier?: string;
  throughput?: string;
  status?: string;
  canSendMessage?: CanSendMessage;
  isOnBizApp?: boolean;
  platformType?: string;
  /** When the read succeeded (epoch ms, the activity's clock). */
  readAt?: number;
}

export interface StartLinkingAttemptParams {
  phoneNumber: string;
  attempt: number;
  maxAttempts: number;
  method: LinkingMethod;
  expiresInMs: number;
}

/** Backend callbacks (POSTed to BACKEND_CALLBACK_URL); ./notices builds them. */
/** Type aliases (not interfaces) so each is a plain JSON record. */
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
export type HistoryOutcomeNotice = { kind: 'historyOutcome'; phoneNumber: string; outcome: HistoryOutcome; message: string };
export type SendingStateNotice = {
  kind: 'sendingState';
  phoneNumber: string;
  canSend: boolean;
  reason?: SendingBlockReason;
  remedy?: string;
};
