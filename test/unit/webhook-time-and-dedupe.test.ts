/** Meta's times read leniently, and never ahead of arrival; which onboarding webhook events are redeliveries. */
import { eventTimeMs, unixSeconds } from '../../api/webhooks/time';
import { happenedAt } from '../../machines/conversation/records';
import { onboardingDedupeKey, type OnboardingEvent } from '../../machines/onboarding';

describe('Meta timestamps', () => {
  it.each([
    ['1749416383', 1749416383],
    [' 1749416383 ', 1749416383],
    [1749416383, 1749416383],
    ['1749416383123', 1749416383],
    [1749416383123, 1749416383],
    ['', undefined],
    ['abc', undefined],
    ['-5', undefined],
    [0, undefined],
    [Number.NaN, undefined],
    [undefined, undefined],
  ] as const)('%p reads as %p', (value, seconds) => {
    expect(unixSeconds(value)).toBe(seconds);
  });

  it('stands in the (second) it was received for a missing time', () => {
    const receivedAt = Date.UTC(2026, 0, 1, 12, 0, 0, 750);
    expect(eventTimeMs(1700000000, receivedAt)).toBe(1700000000_000);
    expect(eventTimeMs(undefined, receivedAt)).toBe(Date.UTC(2026, 0, 1, 12, 0, 0));
  });

  it('never puts an event after the second its workflow received it', () => {
    const at = Date.UTC(2026, 0, 1, 12, 0, 0, 750);
    expect(happenedAt(4102444800_000, at)).toBe(Date.UTC(2026, 0, 1, 12, 0, 0));
    expect(happenedAt(1700000000_000, at)).toBe(1700000000_000);
  });
});

describe('onboarding dedupe keys', () => {
  const quality: OnboardingEvent = {
    type: 'account.qualityUpdate',
    event: 'ONBOARDING',
    messagingLimitTier: 'TIER_2K',
    eventTime: 1750000000,
  };

  it('keys a redelivery like the original, and a later or different update apart', () => {
    expect(onboardingDedupeKey({ ...quality })).toBe(onboardingDedupeKey(quality));
    expect(onboardingDedupeKey({ ...quality, eventTime: 1750000001 })).not.toBe(onboardingDedupeKey(quality));
    expect(onboardingDedupeKey({ ...quality, messagingLimitTier: 'TIER_10K' })).not.toBe(onboardingDedupeKey(quality));
    const chunk = { type: 'history.progress', phase: 1, chunkOrder: 2, progress: 60, at: 1 } as const;
    expect(onboardingDedupeKey({ ...chunk, at: 2 })).toBe(onboardingDedupeKey(chunk));
    expect(onboardingDedupeKey({ ...chunk, chunkOrder: 3 })).not.toBe(onboardingDedupeKey(chunk));
  });

  it('gives no key to an update without entry[].time, nor to backend and ops events', () => {
    expect(onboardingDedupeKey({ ...quality, eventTime: 0 })).toBeUndefined();
    expect(onboardingDedupeKey({ type: 'account.update', event: 'PARTNER_REMOVED', receivedAt: 1 })).toBeUndefined();
    expect(onboardingDedupeKey({ type: 'payment.added', at: 1 })).toBeUndefined();
    expect(onboardingDedupeKey({ type: 'retry' })).toBeUndefined();
  });
});
