import type { Harness } from './harness';
import { eventually } from './wait';

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

/** Start → prerequisites → Embedded Signup finished, through the API; resolves once linking shows a QR. */
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

/** Embedded Signup finished and its result POSTed to the API; resolves once linking shows a QR. */
export async function finishSignup(h: Driver, phoneNumber: string) {
  const signup = await h.sim('POST', '/signup', { phoneNumber });
  if (signup.body?.message?.event !== 'FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING')
    throw new Error(`signup: ${JSON.stringify(signup.body)}`);
  const finished = await h.api('POST', `/onboardings/${phoneNumber}/signup`, {
    event: signup.body.message.event,
    data: signup.body.message.data,
    code: signup.body.code,
  });
  if (finished.status !== 200) throw new Error(`signup: ${JSON.stringify(finished.body)}`);
  return h.onboardingWhen(phoneNumber, (o) => o.stage === 'linking');
}

/** The phone scans the current QR and the backend reports it. */
export async function scan(h: Driver, phoneNumber: string) {
  // A QR that lapses just before the scan is renewed by the onboarding: scan the next one.
  const scanned = await eventually(
    async () =>
      (await h.sim('GET', `/numbers/${phoneNumber}`)).body?.linking === undefined
        ? undefined
        : h.sim('POST', `/linking/${phoneNumber}/scan`),
    (r) => r !== undefined && r.body?.error?.code !== 'qr_expired',
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  if (scanned!.status !== 200) throw new Error(`scan: ${JSON.stringify(scanned!.body)}`);
  return h.api('POST', `/onboardings/${phoneNumber}/events`, { type: 'qrScanned' });
}

/** A number onboarded to Active, as the scenarios do it. */
export async function onboardToActive(h: Driver, phoneNumber: string, settings: Record<string, unknown> = {}) {
  const ids = await createPhone(h, phoneNumber, settings);
  await throughSignup(h, phoneNumber);
  await scan(h, phoneNumber);
  await h.onboardingWhen(phoneNumber, (o) => o.stage === 'active');
  return ids;
}
