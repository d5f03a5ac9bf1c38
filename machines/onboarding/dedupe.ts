/** Which of an onboarding's webhook events are redeliveries. */
import type { OnboardingEvent } from './events';

/**
 * The key under which the interpreter drops a redelivered webhook event (Meta redelivers for up to
 * 7 days, docs/meta.md#duplicates): a history chunk by its phase, chunk order and progress; a
 * lifecycle, quality or name update by `entry[].time` and its content. Without `entry[].time` an
 * update cannot be told from a new one with the same content (a number flagged again), so it has
 * no key; the machine's own rules then apply (repeated lifecycle events are recorded once).
 * Backend and ops events have no key: Updates are judged by the machine.
 */
export function onboardingDedupeKey(signalled: { type: string; [field: string]: unknown }): string | undefined {
  // A signal is not validated: a field of the wrong type only makes an odd key.
  const event = signalled as OnboardingEvent;
  switch (event.type) {
    case 'history.progress':
      return `history:${event.phase}:${event.chunkOrder}:${event.progress}`;
    case 'history.declined':
      return 'history.declined';
    case 'account.qualityUpdate':
      return timed(event.eventTime, ['quality', event.event, event.messagingLimitTier, event.qualityRating]);
    case 'account.nameUpdate':
      return timed(event.eventTime, ['name', event.decision, event.requestedVerifiedName, event.rejectionReason]);
    case 'account.update':
      return timed(event.eventTime, ['account', event.event, event.reason, event.initiatedBy, event.detail]);
    default:
      return undefined;
  }
}

function timed(eventTime: number | undefined, parts: unknown[]): string | undefined {
  return eventTime !== undefined && eventTime > 0 ? JSON.stringify([...parts.map((p) => p ?? null), eventTime]) : undefined;
}
