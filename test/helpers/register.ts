import type { MessageStore } from '../../store/message-store';

/**
 * A business number in the number registry under `wabaId`, as its onboarding writes it once the
 * signup code is exchanged: for tests that post Meta's webhooks for a number without driving an
 * onboarding (webhooks for a number the registry does not hold are quarantined).
 */
export async function registerNumber(
  store: Pick<MessageStore, 'numbers'>,
  { phoneNumberId, wabaId, display }: { phoneNumberId: string; wabaId: string; display: string },
) {
  const e164 = `+${display.replace(/^\+/, '')}`;
  await store.numbers.record({
    phoneNumberId,
    onboardingWorkflowId: `onboarding:${e164}`,
    wabaId,
    displayPhoneNumber: e164,
    canSend: false,
    reason: 'number_not_onboarded',
    updatedAt: Date.now(),
  });
}
