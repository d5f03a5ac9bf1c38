/**
 * Ops budgets (how long a stage may last before an onboarding is stuck) are derived from the
 * machine's settings: a budget never runs out before the machine's own clock for that stage, and
 * a changed timing moves the budget with it.
 */
import { STAGE_AGE_BUCKETS } from '../../api/metrics/onboarding-gauges';
import {
  DEFAULT_ONBOARDING_SETTINGS,
  DEFAULT_STAGE_BUDGETS_MS,
  stageBudgetsFor,
  type OnboardingSettings,
} from '../../machines/onboarding';

/** How long the machine itself may stay in a stage before it blocks or moves on, by its settings. */
function machineBounds(s: OnboardingSettings) {
  return {
    linking: s.maxLinkingAttempts * s.linkingAttemptTtlMs,
    registration: s.registrationDeadlineMs,
    payment: s.paymentRecheckMs,
  };
}

test.each([
  ['the defaults', DEFAULT_ONBOARDING_SETTINGS],
  ['a QR that lives 5 minutes', { ...DEFAULT_ONBOARDING_SETTINGS, linkingAttemptTtlMs: 5 * 60_000 }],
  [
    'ten attempts and a slow registration',
    { ...DEFAULT_ONBOARDING_SETTINGS, maxLinkingAttempts: 10, registrationDeadlineMs: 60 * 60_000 },
  ],
])('with %s, every budget covers the machine’s own clock for its stage', (_name, settings) => {
  const budgets = stageBudgetsFor(settings);
  for (const [stage, bound] of Object.entries(machineBounds(settings))) {
    expect(budgets[stage as keyof typeof budgets]).toBeGreaterThanOrEqual(bound);
  }
});

test('the QR living 5 minutes moves the linking budget to 5 attempts × 5 minutes', () => {
  expect(DEFAULT_STAGE_BUDGETS_MS.linking).toBe(10 * 60_000);
  expect(stageBudgetsFor({ ...DEFAULT_ONBOARDING_SETTINGS, linkingAttemptTtlMs: 5 * 60_000 }).linking).toBe(25 * 60_000);
});

test('the stage-age histogram has a bucket edge at every default budget', () => {
  for (const budget of Object.values(DEFAULT_STAGE_BUDGETS_MS)) expect(STAGE_AGE_BUCKETS).toContain(budget / 1000);
});
