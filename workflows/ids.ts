/** Workflow ids: one live onboarding a number, one conversation a (number, customer). */

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
