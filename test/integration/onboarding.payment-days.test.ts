/**
 * "Payment added three days later": three days pass on the time-skipping test server while the
 * real activities keep re-checking Meta (the simulator, over HTTP). Sending stays blocked, the
 * backend is told once, and the backend's "payment added" makes the number Active.
 *
 * The test server has no Workflow Updates, so events go by signal (what the API's webhook route
 * does too); the API starts and reads the onboarding.
 */
import type { OnboardingEvent } from '../../machines/onboarding';
import { eventSignal, type MachineEvent } from '../../contracts/machine-api';
import { onboardingWorkflowId } from '../../contracts/ids';
import { startHarness, type Harness } from '../helpers/harness';
import { eventually } from '../helpers/wait';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ timeSkipping: true });
});

afterAll(async () => {
  await h?.stop();
});

const HOUR = 3_600_000;
const phone = '+15550109001';

async function signal(event: OnboardingEvent) {
  await h.env.client.workflow.getHandle(onboardingWorkflowId(phone)).signal(eventSignal, event as MachineEvent);
}

const paymentRequiredCallbacks = () => h.callbacks.received.filter((c) => c.kind === 'paymentRequired').length;

test('payment added three days later: sending is blocked until then, with hourly re-checks and one notice', async () => {
  const { wabaId } = (await h.sim('POST', '/numbers', { phoneNumber: phone, paymentMethod: false })).body;
  const settings = { paymentRecheckMs: HOUR, registrationPollIntervalMs: 200 };
  expect((await h.api('POST', '/onboardings', { phoneNumber: phone, settings })).status).toBe(201);

  await signal({
    type: 'prerequisites.report',
    appVersion: '2.25.1',
    hasBusinessPortfolio: true,
    connectedElsewhere: false,
    at: Date.now(),
  });
  // Meta's order: the popup opens (the session), the phone scans, and only then does FINISH come.
  await h.sim('POST', '/signup', { phoneNumber: phone });
  await signal({ type: 'signup.started', at: Date.now() });
  await h.onboardingWhen(phone, (o) => o.stage === 'linking');
  const scanned = await h.sim('POST', `/linking/${phone}/scan`);
  expect(scanned.status).toBe(200);
  await signal({ type: 'signup.finished', wabaId, code: scanned.body.code, at: Date.now() });

  const blocked = await h.onboardingWhen(
    phone,
    (o) => o.stage === 'payment' && o.statusCard.sendingState.reason === 'payment_missing',
  );
  expect(blocked.statusCard.sendingState.canSend).toBe(false);
  await eventually(
    async () => paymentRequiredCallbacks(),
    (n) => n === 1,
  );

  const before = await h.env.currentTimeMs();
  await h.env.sleep(3 * 24 * HOUR);
  expect((await h.env.currentTimeMs()) - before).toBeGreaterThanOrEqual(3 * 24 * HOUR);

  const threeDaysOn = (await h.api('GET', `/onboardings/${phone}`)).body;
  expect(threeDaysOn.stage).toBe('payment');
  expect(threeDaysOn.statusCard.sendingState).toMatchObject({ canSend: false, reason: 'payment_missing' });
  // Meta was asked again every hour, and the backend was not told again each time.
  expect(threeDaysOn.payment.checks).toBeGreaterThanOrEqual(72);
  expect(paymentRequiredCallbacks()).toBe(1);

  await h.sim('PATCH', `/numbers/${phone}`, { paymentMethod: true });
  await signal({ type: 'payment.added', at: await h.env.currentTimeMs(), by: 'backend' });
  const active = await h.onboardingWhen(phone, (o) => o.stage === 'active' && o.statusCard.sendingState.canSend === true);
  expect(active.payment.missing).toBe(false);
  expect(active.timeline.some((t: { event: string }) => t.event === 'payment.added')).toBe(true);
});
