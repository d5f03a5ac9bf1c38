/** Workflow ids: one live onboarding a number, one conversation a (number, customer), one sender a number. */
import { parsePhoneNumberWithError, ParseError, validatePhoneNumberLength } from 'libphonenumber-js/min';

/** A phone number read to E.164, or why it cannot be. */
export type PhoneNumberReading = { e164: string } | { refused: string };

/** What a person or a backend may write around the digits: `+1 (555) 078-3881`. */
const WRITTEN = /^\+?[\d ().-]{1,40}$/;

const LENGTH_REASONS: Record<string, string> = {
  NOT_A_NUMBER: 'is not a phone number',
  INVALID_COUNTRY: 'has no known country calling code after the +',
  TOO_SHORT: 'is too short for its country',
  TOO_LONG: 'is too long for its country',
  INVALID_LENGTH: 'has a length its country does not use',
};

/**
 * A phone number as a backend or a person writes it, read with libphonenumber (its country's
 * possible lengths, not its allocated ranges, so that test ranges such as +1 555 are accepted):
 * - `+<country code> <number>` with spaces, dashes, dots and parentheses: `+1 (555) 078-3881`;
 * - `00<country code><number>`, the international call prefix: `0015550783881`;
 * - bare digits starting with the country code, as Meta writes numbers: `15550783881`.
 * Anything else is ambiguous and refused with the reason: a national number (`0…`, or written
 * with punctuation but no `+`) could belong to any country.
 */
export function readPhoneNumber(text: string): PhoneNumberReading {
  if (!WRITTEN.test(text) || text.trim() !== text) {
    return { refused: 'must be a phone number in digits, with + and the country code, e.g. +15550783881' };
  }
  let international: string;
  if (text.startsWith('+')) international = text;
  else if (/^00\d+$/.test(text)) international = `+${text.slice(2)}`;
  else if (/^0/.test(text)) {
    return { refused: 'is ambiguous: a national number (leading 0) needs its country code, e.g. +44 20 7946 0958' };
  } else if (/^\d+$/.test(text)) international = `+${text}`;
  else return { refused: 'is ambiguous without + and the country code, e.g. +1 (555) 078-3881' };
  const length = validatePhoneNumberLength(international);
  if (length) return { refused: LENGTH_REASONS[length] ?? 'is not a possible phone number' };
  try {
    return { e164: parsePhoneNumberWithError(international).number };
  } catch (err) {
    const reason = err instanceof ParseError ? LENGTH_REASONS[err.message] : undefined;
    return { refused: reason ?? 'is not a possible phone number' };
  }
}

/** True when `phoneNumber` is already E.164 exactly as readPhoneNumber writes it. */
export function isE164(phoneNumber: string): boolean {
  const reading = readPhoneNumber(phoneNumber);
  return 'e164' in reading && reading.e164 === phoneNumber;
}

export function onboardingWorkflowId(phoneNumber: string): string {
  if (!isE164(phoneNumber)) throw new Error(`not an E.164 phone number: ${phoneNumber}`);
  return `onboarding:${phoneNumber}`;
}

/** Meta writes numbers in international form without `+` (and `to` on echoes as typed): normalise to E.164. */
export function toE164(number: string): string | undefined {
  const reading = readPhoneNumber(`+${number.replace(/^\s*\+/, '')}`);
  // Only a form that reads back as itself (`820000000` reads as +82000000, which does not):
  // everything keyed by it (onboardingWorkflowId) takes it as it is.
  return 'e164' in reading && isE164(reading.e164) ? reading.e164 : undefined;
}

/** Meta's ids (phone_number_id, WABA id) are digits; a customer's wa_id is digits too. */
export const META_ID = /^\d{1,32}$/;
export const WA_ID = /^\d{6,20}$/;

/** A customer's wa_id from a number as typed (`+1 650-555-1234`), or undefined. */
export function toWaId(number: string): string | undefined {
  const digits = number.replace(/[\s\-().]/g, '').replace(/^\+/, '');
  return WA_ID.test(digits) ? digits : undefined;
}

/**
 * A business-scoped user id (BSUID) as Meta writes it: a country code, a dot and up to 128 letters
 * or digits (`US.13491208655302741918`); a parent BSUID has `ENT` in between
 * (`US.ENT.11815799212886844830`). Never digits only, so never mistaken for a wa_id.
 */
export const BSUID = /^[A-Za-z]{2,4}\.(?:ENT\.)?[A-Za-z0-9]{1,128}$/;

/** A conversation's customer key: the customer's wa_id, or their BSUID when first known without a phone number. */
export function isCustomerKey(key: string): boolean {
  return WA_ID.test(key) || BSUID.test(key);
}

/**
 * One conversation a (business phone_number_id, customer key): `conversation:<phone_number_id>:<wa_id>`,
 * or `conversation:<phone_number_id>:<BSUID>` for a customer first known by username (store/customers.ts).
 */
export function conversationWorkflowId(phoneNumberId: string, waId: string): string {
  if (!META_ID.test(phoneNumberId)) throw new Error(`not a phone_number_id: ${phoneNumberId}`);
  if (!isCustomerKey(waId)) throw new Error(`not a wa_id nor a business-scoped user id: ${waId}`);
  return `conversation:${phoneNumberId}:${waId}`;
}

/** The one place that paces a number's sends. */
export function senderWorkflowId(phoneNumberId: string): string {
  if (!META_ID.test(phoneNumberId)) throw new Error(`not a phone_number_id: ${phoneNumberId}`);
  return `sender:${phoneNumberId}`;
}
