/**
 * What the user is told when onboarding or sending stops, in the help article's words
 * ("Before you start", "Common issues"). Meta's codes that lead to these reasons are in
 * ../meta-codes.ts. Pure data and lookups: no I/O.
 */

/** Why onboarding is blocked. Each one has a remedy the user can act on. */
export type BlockedReason =
  // "Before you start" checks, and their Embedded Signup counterparts.
  | 'app_too_old'
  | 'no_business_portfolio'
  | 'connected_elsewhere'
  // Embedded Signup errors (CANCEL with error_code).
  | 'already_shared_with_partner'
  | 'number_not_eligible'
  | 'region_not_supported'
  | 'wrong_business_portfolio'
  | 'not_on_business_app'
  | 'number_already_registered'
  | 'waba_restricted'
  | 'linked_to_facebook_page'
  | 'waba_uses_marketing_messages'
  | 'too_many_attempts'
  | 'signup_error'
  | 'signup_abandoned'
  | 'phone_verification_abandoned'
  // The code exchange after FINISH, each of Meta's answers on its own.
  | 'signup_code_expired'
  | 'signup_code_used'
  | 'signup_code_invalid'
  | 'app_credentials_invalid'
  // The number lookup after the exchange.
  | 'number_not_in_waba'
  // Graph calls after signup.
  | 'reauthorization_required'
  | 'permission_missing'
  | 'meta_api_error'
  // Linking and registration.
  | 'qr_not_scanned'
  | 'registration_not_confirmed';

/**
 * Where an ops `retry` goes once the user has acted on the remedy:
 * `same_stage` re-runs the stage that blocked, `signup` needs a new Embedded Signup (a new
 * token), `none` means the user cannot fix it from here (ops may still `reset`).
 */
export type RetryPolicy = 'same_stage' | 'signup' | 'none';

export interface BlockedReasonInfo {
  remedy: string;
  retry: RetryPolicy;
}

const DISCONNECT_IN_APP = 'in the WhatsApp Business app: Settings › Account › Business Platform › Disconnect';

export const BLOCKED_REASONS = {
  app_too_old: {
    remedy:
      'The WhatsApp Business version on the device is older than 2.24.17. Update the app through the app store ' +
      'and restart it before scanning the QR code again.',
    retry: 'same_stage',
  },
  no_business_portfolio: {
    remedy:
      'You need access to Facebook Business Manager: the number is linked to an existing business portfolio, or to a ' +
      'new one you create during the process. Get admin access to a business portfolio, then start again.',
    retry: 'same_stage',
  },
  connected_elsewhere: {
    remedy:
      'The number is already connected to the API, with another WABA provider or in your own WABA account from the ' +
      `past that wasn't cleared. Go into the platform where the number is registered and disconnect it there (${DISCONNECT_IN_APP}), ` +
      "wait 15 minutes, then try again. If you don't know where the number is registered, check Facebook Business " +
      'Manager in the WhatsApp Accounts tab.',
    retry: 'same_stage',
  },
  already_shared_with_partner: {
    remedy:
      'The WhatsApp Business account is already shared with another partner. Disconnect the current partner ' +
      `(${DISCONNECT_IN_APP}) or stop sharing the account in Business Manager, then start signup again.`,
    retry: 'same_stage',
  },
  number_not_eligible: {
    remedy:
      "Meta doesn't allow this number to connect to the API yet. Keep using the WhatsApp Business app and try again " +
      'later, or connect a new number instead.',
    retry: 'none',
  },
  region_not_supported: {
    remedy: "Meta doesn't offer this connection for numbers from this country. Use a number from a supported country.",
    retry: 'none',
  },
  wrong_business_portfolio: {
    remedy:
      "The number isn't in the business portfolio you chose. Start signup again and choose the right portfolio (log " +
      'out of other Facebook accounts first), or remove the number from the other portfolio.',
    retry: 'same_stage',
  },
  not_on_business_app: {
    remedy:
      "The number isn't active in the WhatsApp Business app. Register it in the app on the device, then start signup " +
      'again, or connect it as a new number.',
    retry: 'same_stage',
  },
  number_already_registered: {
    remedy:
      'The number is already registered on the WhatsApp Business API. Disconnect it from the platform where it is ' +
      'registered, then start signup again.',
    retry: 'same_stage',
  },
  waba_restricted: {
    remedy: 'Meta has restricted this WhatsApp Business account. Check Business Support Home in Meta Business Suite.',
    retry: 'none',
  },
  linked_to_facebook_page: {
    remedy: 'The number is linked to a Facebook Page. Remove the number from the Page, then start signup again.',
    retry: 'same_stage',
  },
  waba_uses_marketing_messages: {
    remedy:
      "This WhatsApp Business account sends marketing messages, which this connection doesn't support. Start signup " +
      'again and choose another account.',
    retry: 'same_stage',
  },
  too_many_attempts: {
    remedy: 'Too many attempts in a short time. Wait a while, then start signup again.',
    retry: 'same_stage',
  },
  signup_error: {
    remedy: "Meta's connection screen reported an error. Start signup again; if it repeats, contact support with the error code.",
    retry: 'same_stage',
  },
  signup_abandoned: {
    remedy: "The connection on Meta's screen was not completed. Start signup again and follow it to the end.",
    retry: 'same_stage',
  },
  phone_verification_abandoned: {
    remedy:
      'The connection was left at the phone step, before the QR code was scanned (or the code entered). Start signup ' +
      'again, keep WhatsApp Business open on the phone (Settings › Linked devices), and scan the code as soon as it shows.',
    retry: 'same_stage',
  },
  signup_code_expired: {
    remedy: "Meta's authorization expired before it could be used (it lives 30 seconds). Start signup again.",
    retry: 'signup',
  },
  signup_code_used: {
    remedy: "Meta's authorization was already used, for example by a second tab. Start signup again in one tab only.",
    retry: 'signup',
  },
  signup_code_invalid: {
    remedy:
      'Meta did not recognise the authorization the page sent. Start signup again; if it repeats, the page is not sending ' +
      "the code from Meta's login callback unchanged.",
    retry: 'signup',
  },
  app_credentials_invalid: {
    remedy:
      "Meta refused this platform's app credentials. Support must check the app id and secret, then the business starts " +
      'signup again.',
    retry: 'signup',
  },
  number_not_in_waba: {
    remedy:
      "The WhatsApp Business account chosen on Meta's screen does not list this number. Start signup again, type this " +
      'number on the phone step and choose the account it belongs to; or start the onboarding of the number that was ' +
      'connected instead.',
    retry: 'signup',
  },
  reauthorization_required: {
    remedy: "Meta's access to this account is no longer valid. Start signup again to reconnect.",
    retry: 'signup',
  },
  permission_missing: {
    remedy: 'A permission is missing. Start signup again and approve every permission requested.',
    retry: 'signup',
  },
  meta_api_error: {
    remedy: 'Meta could not complete the request. Try again in a few minutes; if it keeps failing, contact support.',
    retry: 'same_stage',
  },
  qr_not_scanned: {
    remedy:
      'The QR code was not scanned in time. Open WhatsApp Business on the device, go to Settings › Linked devices, ' +
      "click refresh the code on Meta's connection screen, and scan the new code from the app immediately.",
    retry: 'same_stage',
  },
  registration_not_confirmed: {
    remedy:
      'Meta has not confirmed the number on the API yet (this usually takes a few seconds to a minute). Check that ' +
      'the app shows the number as connected under Settings › Account › Business Platform, then try again.',
    retry: 'same_stage',
  },
} as const satisfies Record<BlockedReason, BlockedReasonInfo>;

export function remedyFor(reason: BlockedReason): string {
  return BLOCKED_REASONS[reason].remedy;
}

// --- Sync (POST /<PHONE_ID>/smb_app_data) -----------------------------------------------------

/** Why a contacts or history sync request failed (../meta-codes.ts has Meta's codes). None of them is ever retried. */
export type SyncFailureReason = 'sync_already_used' | 'sync_window_passed' | 'sync_request_failed';

export const SYNC_FAILURES = {
  sync_already_used: {
    remedy:
      'Meta allows this sync once per number and it was already used. Getting the missing data needs a disconnect in ' +
      'the WhatsApp Business app and a new connection.',
  },
  sync_window_passed: {
    remedy:
      'Meta allows sync only within 24 hours of connecting. To sync, disconnect in the WhatsApp Business app and ' +
      'connect again.',
  },
  sync_request_failed: {
    remedy:
      'Meta did not confirm the sync request. It may have been accepted and cannot be sent again; if the data never ' +
      'arrives, disconnect in the WhatsApp Business app and connect again.',
  },
} as const satisfies Record<SyncFailureReason, { remedy: string }>;

/** How chat history ended up, when it is not (or not yet) simply complete. */
export const HISTORY_OUTCOMES = {
  complete: 'Chat history from the last 180 days was imported.',
  declined: 'History not shared: the business chose "Don\'t share chats" in the app. Contacts and new messages still sync.',
  not_received:
    'Chat history never arrived from Meta, and it cannot be requested again. To import it, disconnect in the ' +
    'WhatsApp Business app and connect again.',
  incomplete: 'Chat history stopped arriving before it was complete. What arrived is kept; the rest cannot be requested again.',
} as const;

export type HistoryOutcome = keyof typeof HISTORY_OUTCOMES;

// --- Sending state ---------------------------------------------------------------------------

/** Why the number cannot send from the API, most actionable first (the card shows the first). */
export type SendingBlockReason =
  | 'offboarded'
  | 'reauthorization_required'
  | 'permission_missing'
  | 'account_deleted'
  | 'account_disabled'
  | 'account_restricted'
  | 'account_violation'
  | 'payment_missing'
  | 'policy_restricted'
  | 'account_locked'
  | 'status_unknown'
  | 'number_not_connected'
  | 'coexistence_inactive'
  | 'health_blocked';

export const SENDING_BLOCKS = {
  offboarded: {
    remedy: 'The number is disconnected from the API. Messages from the app still work; connect again to send from Mumble.',
  },
  reauthorization_required: {
    remedy:
      "Meta no longer accepts this platform's access to the account (expired or revoked). Connect again through Meta's " +
      'screen: the onboarding keeps running and takes the new authorization.',
  },
  permission_missing: {
    remedy:
      "A permission this platform needs was removed. Connect again through Meta's screen and approve every permission " +
      'requested: the onboarding keeps running and takes the new authorization.',
  },
  account_deleted: {
    remedy: 'Meta reports the WhatsApp Business account as deleted. Check Business Support Home in Meta Business Suite.',
  },
  account_disabled: {
    remedy:
      'Meta disabled (banned) the WhatsApp Business account. Check Business Support Home in Meta Business Suite, where ' +
      'the decision can be appealed.',
  },
  account_restricted: {
    remedy:
      'Meta restricted what the account may send (for example no business-initiated messages) for a while. Check ' +
      'Business Support Home in Meta Business Suite; sending resumes once Meta lifts it.',
  },
  account_violation: {
    remedy: 'Meta reports a policy violation on the account. Check Business Support Home in Meta Business Suite.',
  },
  payment_missing: {
    remedy:
      "Messages come in but won't go out: there is no payment method on the Meta account. In Mumble go to Settings, " +
      'the billing area, "Add payment details", and save a card at Meta.',
  },
  policy_restricted: {
    remedy: 'Meta restricted the account for a policy violation. Check Business Support Home in Meta Business Suite.',
  },
  account_locked: {
    remedy: 'Meta locked the account. Check the account in Business Support Home in Meta Business Suite.',
  },
  status_unknown: {
    remedy:
      "Meta hasn't reported the number's status yet. The WhatsApp Account Status card fills in once the number is connected.",
  },
  number_not_connected: {
    remedy: 'Meta reports the number as not connected. Check the WhatsApp Account Status card and Business Support Home.',
  },
  coexistence_inactive: {
    remedy:
      'The number is no longer on both the WhatsApp Business app and the API. Check Settings › Account › Business ' +
      'Platform in the app, and connect again if it shows disconnected.',
  },
  health_blocked: {
    remedy:
      "Meta reports the number can't send messages. Check the WhatsApp Account Status card for the reason, such as " +
      'poor quality or a missing approved Display Name.',
  },
} as const satisfies Record<SendingBlockReason, { remedy: string }>;

// --- Linking, offboarding, warnings -----------------------------------------------------------

/** Told to the user each time a linking attempt lapses and a fresh one starts. */
export function linkingLapsedRemedy(method: 'qr' | 'code'): string {
  return method === 'qr'
    ? "The QR code expired. Click refresh the code on Meta's connection screen, and scan the new code from the app " +
        'immediately (WhatsApp Business › Settings › Linked devices).'
    : "The verification code expired. Get a new code on Meta's connection screen and enter it in the app immediately.";
}

/** `account_update` disconnection_info.reason values with their own explanation. */
const OFFBOARDING_REASONS: Readonly<Record<string, string>> = {
  PRIMARY_INACTIVITY:
    "The WhatsApp Business app wasn't opened on the phone for about 14 days, so Meta disconnected the number from " +
    'the API. Open the app, then connect the number again.',
  COMPANION_INACTIVITY: 'The API connection was unused for about 30 days, so Meta disconnected it. Connect the number again.',
  USER_RE_REGISTERED:
    'The number was registered again on a device, which disconnected it from the API. Connect the number again.',
  CHANGE_NUMBER: 'The business changed its number in the app. Connect the new number.',
  BUSINESS_DOWNGRADE: 'The number was moved to the consumer WhatsApp app. Move it back to WhatsApp Business, then connect again.',
  ACCOUNT_DISCONNECTED: 'The account was disconnected or deleted. Check Business Support Home, then connect the number again.',
};

export function offboardingRemedy(event: string, reason: string | undefined): string {
  if (event === 'ACCOUNT_OFFBOARDED') {
    return (
      'The number was re-registered on a device, so Meta paused the API connection. Keep the reconnection option ' +
      'checked in the app; it usually reconnects by itself within minutes. Linked devices such as WhatsApp Web must ' +
      'be linked again by hand.'
    );
  }
  return (
    (reason !== undefined ? OFFBOARDING_REASONS[reason] : undefined) ??
    'The number was disconnected from the API (in the app or by Meta). Connect the number again to send from Mumble.'
  );
}

export type WarningCode = 'payment_method_missing';

export const WARNINGS = {
  payment_method_missing:
    'A payment method for Meta: Meta charges for every conversation opened through the API. This is set up after ' +
    "the connection, but it's worth preparing a card in advance.",
} as const satisfies Record<WarningCode, string>;
