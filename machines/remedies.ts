/**
 * Why an onboarding is blocked, and what the user does about it: the help article's
 * "Common issues" and Meta's error table (meta-reference §7), in the article's words.
 */

export type Stage = 'prerequisites' | 'signup' | 'linking' | 'registration' | 'sync' | 'payment' | 'active';

export interface BlockedReasonInfo {
  remedy: string;
  /** The user can fix it and try the same step again (`retry`); false: a new path is needed. */
  retryable: boolean;
}

const disconnectElsewhere =
  'The number is already connected to the API with another provider, or in an old WABA of your own that was not cleared. ' +
  'Disconnect it there (WhatsApp Business app › Settings › Account › Business Platform › Disconnect), wait 15 minutes, then try again. ' +
  'If you do not know where it is registered, check Facebook Business Manager › WhatsApp Accounts.';

const updateApp =
  'The WhatsApp Business version on the device is older than 2.24.17. Update the app through the app store and restart it before scanning the QR code again.';

export const blockedReasons = {
  app_too_old: { remedy: updateApp, retryable: true },
  no_business_portfolio: {
    remedy:
      'Access to Facebook Business Manager is needed: the number is linked to an existing business portfolio, or to a new one you create during the process. Get admin access to the portfolio, then try again.',
    retryable: true,
  },
  connected_elsewhere: { remedy: disconnectElsewhere, retryable: true },
  already_shared_with_partner: {
    remedy: 'This WhatsApp Business Account is already shared with another partner. Disconnect the current partner in the app, then try again.',
    retryable: true,
  },
  not_eligible: {
    remedy: 'Meta says this number is not eligible for Coexistence yet. Use the WhatsApp Business app more and try later, or connect a new number instead.',
    retryable: false,
  },
  region_not_supported: {
    remedy: 'Coexistence is not available for numbers from this region. Use a number from a supported country.',
    retryable: false,
  },
  wrong_portfolio: {
    remedy: 'The number is not in the business portfolio you selected. Choose the right portfolio in Meta’s screen, or remove the number from the other one, then try again.',
    retryable: true,
  },
  not_on_business_app: {
    remedy: 'This number is not registered in the WhatsApp Business app. Register it in the app first, or connect another number.',
    retryable: true,
  },
  too_many_attempts: { remedy: 'Meta received too many tries for this number. Wait a while, then try again.', retryable: true },
  signup_abandoned: {
    remedy: 'The connection on Meta’s screen was closed before it finished. Click “Connect through Meta” and start again.',
    retryable: true,
  },
  signup_code_expired: {
    remedy: 'The connection was not completed in time (Meta’s authorization code lasts about 30 seconds). Start the connection through Meta again.',
    retryable: true,
  },
  signup_error: {
    remedy: 'Meta reported an error during the connection. Start the connection through Meta again; if it repeats, contact support with the error code.',
    retryable: true,
  },
  number_not_found: {
    remedy: 'Meta finished the connection but no number of this WhatsApp Business Account is on the app. Start the connection again with the number that is live in the app.',
    retryable: true,
  },
  qr_not_scanned: {
    remedy:
      'The QR code expired before it was scanned. Meta’s QR code is valid for a minute or two: click refresh the code on Meta’s connection screen, and scan the new code from the app immediately (Settings › Linked devices).',
    retryable: true,
  },
  registration_not_confirmed: {
    remedy:
      'Meta has not confirmed the number on the Cloud API yet. Keep the phone open with WhatsApp Business; if it does not confirm within minutes, check that the app shows the number as connected, then retry.',
    retryable: true,
  },
  registration_failed: {
    remedy: 'Meta refused to connect the app to the WhatsApp Business Account. Start the connection through Meta again, granting every permission asked.',
    retryable: true,
  },
  reauthorization_required: {
    remedy: 'Meta no longer accepts the access granted during the connection. Start the connection through Meta again.',
    retryable: false,
  },
} satisfies Record<string, BlockedReasonInfo>;

export type BlockedReason = keyof typeof blockedReasons;

export function remedyOf(reason: BlockedReason): string {
  return blockedReasons[reason].remedy;
}

/** Embedded Signup error codes (reaching us through `CANCEL.error_code`), by Meta's table. */
export const signupErrorReasons: Record<string, BlockedReason> = {
  '4563015': 'app_too_old',
  '3441049': 'connected_elsewhere',
  '2655094': 'connected_elsewhere',
  '2655093': 'already_shared_with_partner',
  '3441045': 'not_eligible',
  '3441042': 'region_not_supported',
  '3441041': 'wrong_portfolio',
  '2655095': 'not_on_business_app',
  '2655048': 'not_on_business_app',
  '3441030': 'connected_elsewhere',
  '2655049': 'already_shared_with_partner',
  '2494028': 'already_shared_with_partner',
  '3441033': 'too_many_attempts',
  '3441046': 'too_many_attempts',
};

export function signupErrorReason(errorCode: string): BlockedReason {
  return signupErrorReasons[errorCode] ?? 'signup_error';
}

/** Why the platform cannot send, with what to do: the article's "messages won't go out". */
export const sendingBlocks = {
  payment_missing: 'There is no payment method on the Meta account. In Settings › billing, click “Add payment details” and add a card at Meta.',
  policy_restricted: 'The WhatsApp Business Account is restricted for a policy violation. Check Business Support Home at Meta.',
  account_locked: 'The account is locked by Meta. Check the account status in Business Support Home.',
  quality_low: 'Sending is limited because of poor quality. Check the quality rating on the WhatsApp Account Status card.',
  display_name_not_approved: 'The display name is not approved yet. Sending starts once Meta approves it.',
  not_connected: 'The number is not connected to the Cloud API.',
  offboarded: 'The number was disconnected from the API. Reconnect it from the WhatsApp Business app.',
} as const;

export type SendingBlock = keyof typeof sendingBlocks;

export const linkingLapsedRemedy =
  'The QR code expired. Click refresh the code on Meta’s connection screen, and scan the new code immediately from WhatsApp Business › Settings › Linked devices.';
