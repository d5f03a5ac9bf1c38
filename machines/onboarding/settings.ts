/** What one onboarding may be started with: its timings and how linking begins. */

export type LinkingMethod = 'qr' | 'code';

export interface OnboardingSettings {
  /** Method of the first linking attempt: the help article's QR, or Meta's verification code. */
  linkingMethod: LinkingMethod;
  /** Lifetime of one QR / code attempt. Meta documents none; the article says "a minute or two". */
  linkingAttemptTtlMs: number;
  maxLinkingAttempts: number;
  /** Confirming the number on the Cloud API longer than this: `registration.stuck`. */
  registrationDeadlineMs: number;
  registrationPollIntervalMs: number;
  /** History requested and no `history` webhook at all for this long: "history never arrived". */
  historySilenceMs: number;
  /** Some history chunks, then none for this long: history incomplete. */
  historyStallMs: number;
  /** Payment missing: re-check Meta this often even without a `payment.added`. */
  paymentRecheckMs: number;
  /** Meta allows the contacts and history sync only this long after the signup finished (24 h). */
  syncWindowMs: number;
  /** The status card is re-read from Meta this often, webhooks or not. */
  statusCardRefreshMs: number;
}

export const DEFAULT_ONBOARDING_SETTINGS: OnboardingSettings = {
  linkingMethod: 'qr',
  linkingAttemptTtlMs: 2 * 60_000,
  maxLinkingAttempts: 5,
  registrationDeadlineMs: 10 * 60_000,
  registrationPollIntervalMs: 15_000,
  historySilenceMs: 24 * 60 * 60_000,
  historyStallMs: 2 * 60 * 60_000,
  paymentRecheckMs: 60 * 60_000,
  syncWindowMs: 24 * 60 * 60_000,
  statusCardRefreshMs: 24 * 60 * 60_000,
};

/**
 * How an onboarding runs its signup. `session`: linking is the part of the Embedded Signup session
 * before FINISH (the backend reports the popup opened), lifecycle events are re-read from Meta, the
 * sync window and the card refresh are timed. `legacy`: onboardings started before that, whose
 * recorded histories must replay unchanged (workflows/onboarding.ts picks it with `patched()`).
 */
export type OnboardingFlow = 'session' | 'legacy';

export interface OnboardingInput {
  /** E.164, e.g. +15550783881. */
  phoneNumber: string;
  settings?: Partial<OnboardingSettings>;
  /** Default `session`; only the workflow of an onboarding started before it says `legacy`. */
  flow?: OnboardingFlow;
}
