/** Workflow ids: one live onboarding a number, one conversation a (number, customer), one sender a number. */

export const E164 = /^\+[1-9]\d{6,14}$/;

export function onboardingWorkflowId(phoneNumber: string): string {
  if (!E164.test(phoneNumber)) throw new Error(`not an E.164 phone number: ${phoneNumber}`);
  return `onboarding:${phoneNumber}`;
}

/** Meta writes numbers without `+` (and `to` on echoes as typed): normalise to E.164. */
export function toE164(number: string): string | undefined {
  const digits = number.replace(/[\s\-().]/g, '').replace(/^\+/, '');
  const candidate = `+${digits}`;
  return E164.test(candidate) ? candidate : undefined;
}

/** Meta's ids (phone_number_id, WABA id) are digits; a customer's wa_id is digits too. */
export const META_ID = /^\d{1,32}$/;
export const WA_ID = /^\d{6,20}$/;

/** A customer's wa_id from a number as typed (`+1 650-555-1234`), or undefined. */
export function toWaId(number: string): string | undefined {
  const digits = number.replace(/[\s\-().]/g, '').replace(/^\+/, '');
  return WA_ID.test(digits) ? digits : undefined;
}

/** One conversation a (business phone_number_id, customer wa_id). */
export function conversationWorkflowId(phoneNumberId: string, waId: string): string {
  if (!META_ID.test(phoneNumberId)) throw new Error(`not a phone_number_id: ${phoneNumberId}`);
  if (!WA_ID.test(waId)) throw new Error(`not a wa_id: ${waId}`);
  return `conversation:${phoneNumberId}:${waId}`;
}

/** The one place that paces a number's sends. */
export function senderWorkflowId(phoneNumberId: string): string {
  if (!META_ID.test(phoneNumberId)) throw new Error(`not a phone_number_id: ${phoneNumberId}`);
  return `sender:${phoneNumberId}`;
}
