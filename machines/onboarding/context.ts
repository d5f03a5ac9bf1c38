/** What the onboarding remembers: everything its status, card and timeline are read from. */
import type { CheckPaymentMethodOutput, CheckRegistrationOutput, FetchStatusCardOutput } from './effects';
import type { BlockedReason, SendingBlockReason, SyncFailureReason, WarningCode } from './remedies';
import type { LinkingMethod, OnboardingSettings } from './settings';
import type { BlockableStage } from './stages';

export interface Blocked {
  reason: BlockedReason;
  remedy: string;
  stage: BlockableStage;
  /** Meta's error code (Embedded Signup or Graph) when there was one. */
  code?: number;
  /** Meta's own text, or the Embedded Signup step that was abandoned. */
  detail?: string;
}

export interface Warning {
  code: WarningCode;
  message: string;
}

export interface PrerequisitesReport {
  appVersion: string;
  hasBusinessPortfolio: boolean;
  connectedElsewhere: boolean;
  hasPaymentMethod?: boolean;
}

export interface SyncRequest {
  /** `requesting` from the moment the call is made: a request cut short counts as maybe sent. */
  status: 'not_requested' | 'requesting' | 'requested' | 'failed';
  requestId?: string;
  failure?: { reason: SyncFailureReason; code?: number; message: string; remedy: string };
}

export type HistoryStatus = 'not_requested' | 'awaiting' | 'receiving' | 'complete' | 'declined' | 'not_received' | 'incomplete';

export interface HistoryProgress {
  status: HistoryStatus;
  /** Overall percent (Meta's `progress`); chunks come out of order, so the highest seen. */
  progress: number;
  chunks: number;
  phase?: number;
  chunkOrder?: number;
  lastChunkAt?: number;
  declinedAt?: number;
}

export interface RegistrationProgress {
  checks: number;
  lastCheck?: CheckRegistrationOutput;
  lastError?: string;
  confirmedBy?: 'check' | 'webhook';
}

export interface PaymentProgress {
  /** Inferred (Meta offers no read): 141006 in health; undefined until first checked. */
  missing?: boolean;
  checks: number;
  lastCheck?: CheckPaymentMethodOutput;
  lastError?: string;
  addedAt?: number;
}

export interface StatusCard extends FetchStatusCardOutput {
  /** Last `phone_number_name_update` decision (APPROVED, DEFERRED, REJECTED, …). */
  nameDecision?: string;
  lastError?: string;
}

export interface SendingState {
  canSend: boolean;
  reason?: SendingBlockReason;
  remedy?: string;
}

export interface Offboarding {
  event: string;
  reason?: string;
  initiatedBy?: string;
  eventTime: number;
  remedy: string;
}

export interface OnboardingContext {
  phoneNumber: string;
  settings: OnboardingSettings;
  prerequisites?: PrerequisitesReport;
  warnings: Warning[];
  signupFinishedAt?: number;
  wabaId?: string;
  phoneNumberId?: string;
  displayPhoneNumber?: string;
  sealedToken?: string;
  linkingMethod: LinkingMethod;
  linkingAttempts: number;
  linkedAt?: number;
  registration: RegistrationProgress;
  contactsSync: SyncRequest;
  historySync: SyncRequest;
  history: HistoryProgress;
  payment: PaymentProgress;
  statusCard: StatusCard;
  /** Refusals (131042, 368, 131031) not resolved since. */
  unresolvedSendErrors: number[];
  sendingState: SendingState;
  /** Newest `account.update` eventTime applied (seconds); 0 before any. Older or equal ones are stale. */
  lastLifecycleEventTime: number;
  offboarding?: Offboarding;
  blocked?: Blocked;
  cancelledBy?: string;
}

/** Params of the `block` action. */
export interface BlockParams {
  stage: BlockableStage;
  reason: BlockedReason;
  code?: number;
  detail?: string;
}
