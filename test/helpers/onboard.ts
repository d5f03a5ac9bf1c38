import type { Harness } from './harness';

/** What the helpers drive: the API and the simulator over HTTP, in any stack. */
type Driver = Pick<Harness, 'api' | 'sim' | 'onboardingWhen'>;

/** Settings that keep scenario onboardings quick. */
export const fastOnboarding = { linkingAttemptTtlMs: 60_000, registrationPollIntervalMs: 200, registrationDeadlineMs: 30_000 };

/** A number live in the simulated WhatsApp Business app. */
export async function createPhone(h: Driver, phoneNumber: string, settings: Record<string, unknown> = {}) {
  const created = await h.sim('POST', '/numbers', { phoneNumber, paymentMethod: true, ...settings });
  if (created.status !== 201) throw new Error(`the simulator refused the number: ${JSON.stringify(created.body)}`);
  return created.body as { wabaId: string; phoneNumberId: string };
}

/** Start → prerequisites → Embedded Signup opened, through the API; resolves once linking shows a QR. */
export async function throughSignup(h: Driver, phoneNumber: string, settings: Record<string, unknown> = fastOnboarding) {
  const started = await h.api('POST', '/onboardings', { phoneNumber, settings });
  // 200: the live one, when a start answered 503 (Temporal late) had begun it and was tried again.
  if (started.status !== 201 && started.status !== 200) throw new Error(`start: ${JSON.stringify(started.body)}`);
  const pre = await h.api('POST', `/onboardings/${phoneNumber}/prerequisites`, {
    appVersion: '2.25.1',
    hasBusinessPortfolio: true,
    connectedElsewhere: false,
  });
  if (pre.body?.stage !== 'signup') throw new Error(`prerequisites: ${JSON.stringify(pre.body)}`);
  return finishSignup(h, phoneNumber);
}

/**
 * The backend opens Embedded Signup (the simulated popup shows a QR) and reports the session to the
 * API, as its page does when the popup opens; resolves once the onboarding is linking.
 */
export async function finishSignup(h: Driver, phoneNumber: string) {
  const opened = await h.sim('POST', '/signup', { phoneNumber });
  if (opened.body?.session === undefined) throw new Error(`signup: ${JSON.stringify(opened.body)}`);
  const started = await h.api('POST', `/onboardings/${phoneNumber}/events`, { type: 'signupStarted' });
  if (started.status !== 200) throw new Error(`signup started: ${JSON.stringify(started.body)}`);
  return h.onboardingWhen(phoneNumber, (o) => o.stage === 'linking');
}

/**
 * The phone scans the QR on Meta's screen; Meta then posts FINISH to the page, whose backend
 * forwards it with the code, as the page receives them.
 */
export async function scan(h: Driver, phoneNumber: string) {
  // A QR that lapsed on Meta's clock is refreshed on Meta's screen first, as the person would.
  let scanned = await h.sim('POST', `/linking/${phoneNumber}/scan`);
  if (scanned.body?.error?.code === 'qr_expired') {
    await h.sim('POST', `/linking/${phoneNumber}/refresh`, {});
    scanned = await h.sim('POST', `/linking/${phoneNumber}/scan`);
  }
  if (scanned.status !== 200 || !scanned.body?.message) throw new Error(`scan: ${JSON.stringify(scanned.body)}`);
  return h.api('POST', `/onboardings/${phoneNumber}/signup`, {
    event: scanned.body.message.event,
    data: scanned.body.message.data,
    code: scanned.body.code,
  });
}

/** A number onboarded to Active, as the scenarios do it. */
export async function onboardToActive(h: Driver, phoneNumber: string, settings: Record<string, unknown> = {}) {
  const ids = await createPhone(h, phoneNumber, settings);
  await throughSignup(h, phoneNumber);
  await scan(h, phoneNumber);
  await h.onboardingWhen(phoneNumber, (o) => o.stage === 'active');
  return ids;
}
