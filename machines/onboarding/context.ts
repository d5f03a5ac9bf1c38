/** What the onboarding remembers: everything its status, card and timeline are read from. */
import type { CheckPaymentMethodOutput, CheckRegistrationOutput, FetchStatusCardOutput } from './effects';
import type { BlockedReason, SendingBlockReason, SyncFailureReason, WarningCode } from './remedies';
import type { LinkingMethod, OnboardingFlow, OnboardingSettings } from './settings';
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

export interface HistoryPhaseProgress {
  chunks: number;
  lastChunkOrder: number;
}

export interface HistoryProgress {
  status: HistoryStatus;
  /** Overall percent (Meta's `progress`); chunks come out of order, so the highest seen. */
  progress: number;
  /** Chunks applied; a redelivered chunk is dropped before it counts (./dedupe). */
  chunks: number;
  /** The furthest chunk seen (phase, then chunk order): a late chunk never moves it back. */
  phase?: number;
  chunkOrder?: number;
  /** Per phase (Meta's `phase`, as a string key): chunks applied and the highest `chunk_order` seen. */
  phases?: Record<string, HistoryPhaseProgress>;
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

/** One account_update as the onboarding recorded it (every stage), oldest first. */
export interface LifecycleRecord {
  event: string;
  /** Seconds: entry[].time, or when it was received if Meta sent none. */
  time: number;
  /** Meta sent no entry[].time: `time` is the received time. */
  timeMissing?: true;
  reason?: string;
  initiatedBy?: string;
  detail?: string;
  /** Stale by the fallback rules (an older event of the same kind): recorded, not applied. */
  stale?: true;
}

/** An enforcement in force (ACCOUNT_RESTRICTION, ACCOUNT_VIOLATION, DISABLED_UPDATE, ACCOUNT_DELETED). */
export interface Enforcement {
  event: string;
  time: number;
  detail?: string;
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
  flow: OnboardingFlow;
  prerequisites?: PrerequisitesReport;
  warnings: Warning[];
  /** When the backend reported the Embedded Signup popup open (epoch ms). */
  signupStartedAt?: number;
  signupFinishedAt?: number;
  /** Contacts and history can be requested until then (epoch ms): 24 h from FINISH. */
  syncDeadline?: number;
  /** The sync window passed before the requests were made. */
  syncWindowClosed?: boolean;
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
  /** Newest `account.update` eventTime applied (seconds); 0 before any. Older or equal ones are stale (legacy flow). */
  lastLifecycleEventTime: number;
  /** Every account_update received, in arrival order, duplicates once (session flow; the newest 50). */
  lifecycleEvents: LifecycleRecord[];
  /** Newest time applied, per event kind: kinds never fence each other (session flow). */
  lifecycleFence: Record<string, number>;
  /** The last lifecycle event that asks for a change of stage, applied if no read of Meta settles it. */
  pendingLifecycle?: LifecycleRecord;
  enforcement?: Enforcement;
  /** A repair (a new authorisation) asks for the card to be read again. */
  cardReadRequested?: boolean;
  /** The enforcement / access block the backend was last told of by a `sendingState` notice. */
  announcedSendingBlock?: string;
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
