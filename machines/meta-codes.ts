/**
 * Every Meta error code coexist acts on, and the Coexistence limits it keeps: declared here once,
 * read by the machines, the sender, the activities and the API. What each code means at Meta is in
 * docs/meta.md (error codes); what the person is told is in ./onboarding/remedies.ts.
 */
import type { BlockedReason, SendingBlockReason, SyncFailureReason } from './onboarding/remedies';

// --- limits -------------------------------------------------------------------------------------

/** Coexistence numbers send at most 20 messages per second, whatever `throughput.level` says. */
export const COEXISTENCE_MESSAGES_PER_SECOND = 20;

// --- sending ------------------------------------------------------------------------------------

/** Meta's answer to a send when the payment method is missing or failing. */
export const PAYMENT_REFUSAL_CODE = 131042;

/**
 * Send refusals, immediate or in a `failed` status, that stop the whole number until resolved;
 * most actionable first: the status card shows the first one the number has.
 */
export const SEND_REFUSALS = [
  { code: PAYMENT_REFUSAL_CODE, reason: 'payment_missing' },
  { code: 368, reason: 'policy_restricted' },
  { code: 131031, reason: 'account_locked' },
] as const satisfies readonly { code: number; reason: SendingBlockReason }[];

export type SendRefusalCode = (typeof SEND_REFUSALS)[number]['code'];

/**
 * A refusal that stops the whole number: one of SEND_REFUSALS, or lost access (a token or
 * permission code, below), which no send can get past until the business connects again.
 */
export function isSendingBlockCode(code: number | undefined): code is number {
  return SEND_REFUSALS.some((refusal) => refusal.code === code) || isAuthorizationErrorCode(code);
}

/** The number's own throughput (20/s) was exceeded: the whole number pauses. */
export const NUMBER_RATE_LIMIT_CODE = 130429;
/** Too many messages to one customer in a short time: only that customer pauses. */
export const PAIR_RATE_LIMIT_CODE = 131056;
/** Throttling codes of a send: Meta did not take the message, so it is sent again after a pause. */
export const SEND_THROTTLING_CODES = [NUMBER_RATE_LIMIT_CODE, PAIR_RATE_LIMIT_CODE] as const;
export type SendThrottlingCode = (typeof SEND_THROTTLING_CODES)[number];

export function isSendThrottlingCode(code: number | undefined): code is SendThrottlingCode {
  return SEND_THROTTLING_CODES.some((throttling) => throttling === code);
}

/**
 * Refusals of one message (never the whole number), each named; what the business can do about it
 * is in ./conversation/rules.ts (MESSAGE_REFUSAL_REMEDIES).
 */
export const MESSAGE_REFUSALS = [
  // Sent by business-scoped user id (`recipient`) where Meta needs a phone number (`to`), e.g. some
  // authentication templates.
  { code: 131062, reason: 'bsuid_recipient_not_supported' },
] as const;

export type MessageRefusalReason = (typeof MESSAGE_REFUSALS)[number]['reason'];

/** More than 24 h since the customer's last message (131047; 470 in older payloads): the window is closed. */
export const WINDOW_CLOSED_CODES: readonly number[] = [131047, 470];

// --- retrying Graph calls -----------------------------------------------------------------------

/** Rate limits of the app (4), a user (17), the WABA (80007) and the two of a send: retried after a longer first delay. */
export const THROTTLING_CODES: readonly number[] = [4, 17, 80007, ...SEND_THROTTLING_CODES];

/**
 * Codes that a later attempt can fix by itself: service trouble and throttling. Every other code
 * needs a person or a code change, so Temporal must not retry it.
 */
export const RETRYABLE_META_CODES: readonly number[] = [1, 2, 131000, 131016, 131057, 133004, ...THROTTLING_CODES];

// --- access ---------------------------------------------------------------------------------------

/** The token is invalid, expired or revoked: only a new Embedded Signup yields another. */
const REAUTHORIZATION_CODES: readonly number[] = [0, 190];

/** A permission is missing (3, 10, and Meta's 200–299 permission range). */
function isPermissionCode(code: number): boolean {
  return code === 3 || code === 10 || (code >= 200 && code <= 299);
}

/** A failed Graph call (after the activity's own retries) as a blocked reason. */
export function graphErrorReason(code: number | undefined): BlockedReason {
  if (code === undefined) return 'meta_api_error';
  if (REAUTHORIZATION_CODES.includes(code)) return 'reauthorization_required';
  if (isPermissionCode(code)) return 'permission_missing';
  return 'meta_api_error';
}

/** Token invalid or expired, or a permission missing: only a new Embedded Signup helps. */
export function isAuthorizationErrorCode(code: number | undefined): boolean {
  return graphErrorReason(code) !== 'meta_api_error';
}

// --- onboarding -----------------------------------------------------------------------------------

/** Embedded Signup error codes (CANCEL `error_code`) with a blocked reason of their own. */
export const SIGNUP_ERROR_REASONS: Readonly<Record<number, BlockedReason>> = {
  4563015: 'app_too_old',
  3441049: 'connected_elsewhere',
  2655094: 'connected_elsewhere',
  2655093: 'already_shared_with_partner',
  2655049: 'already_shared_with_partner',
  2494028: 'already_shared_with_partner',
  3441045: 'number_not_eligible',
  3441042: 'region_not_supported',
  3441041: 'wrong_business_portfolio',
  2655095: 'not_on_business_app',
  2655048: 'not_on_business_app',
  3441030: 'number_already_registered',
  2655089: 'waba_restricted',
  3441040: 'waba_restricted',
  2655082: 'linked_to_facebook_page',
  3441047: 'waba_uses_marketing_messages',
  3441033: 'too_many_attempts',
  3441046: 'too_many_attempts',
};

/**
 * The answer to the code exchange (GET /oauth/access_token) after FINISH, each with its own reason.
 * Meta answers 100 for an expired, a used and an unknown code alike: its message tells them apart.
 * No code at all (no answer within the code's 30 s) is an expired code.
 */
export function exchangeErrorReason(code: number | undefined, message: string): BlockedReason {
  if (code === undefined) return 'signup_code_expired';
  if (code === 101) return 'app_credentials_invalid';
  if (code === 100) {
    if (/expired/i.test(message)) return 'signup_code_expired';
    if (/been used|already used/i.test(message)) return 'signup_code_used';
    return 'signup_code_invalid';
  }
  return graphErrorReason(code);
}

/** Any other code keeps the generic `signup_error` (the code itself is kept with the block). */
export function signupErrorReason(code: number): BlockedReason {
  return SIGNUP_ERROR_REASONS[code] ?? 'signup_error';
}

/** Health entity error meaning "no valid payment method" (`health_status.entities[].errors`). */
export const PAYMENT_HEALTH_ERROR_CODE = 141006;

/** Refusals of a contacts or history sync request (POST /<PHONE_ID>/smb_app_data); none is ever retried. */
export const SYNC_FAILURE_CODES = [
  { code: 2593107, reason: 'sync_already_used' },
  { code: 2593108, reason: 'sync_window_passed' },
] as const satisfies readonly { code: number; reason: SyncFailureReason }[];

export function syncFailureReason(code: number | undefined): SyncFailureReason {
  return SYNC_FAILURE_CODES.find((failure) => failure.code === code)?.reason ?? 'sync_request_failed';
}

/** A `history` webhook error: the business chose "Don't share chats" in the app. */
export const HISTORY_DECLINED_CODE = 2593109;

// --- conversations --------------------------------------------------------------------------------

/** The message is not available through the API (Coexistence first contact, unsupported companion). */
export const MESSAGE_UNAVAILABLE_CODE = 131060;
/** Meta's "Message type unknown": the Cloud API does not carry this kind of message. */
export const MESSAGE_TYPE_UNKNOWN_CODE = 131051;
