/**
 * Onboarding scenarios on real Temporal (dev server), through the API and the Graph simulator
 * over HTTP, with signed webhooks and signed backend callbacks.
 */
import { startHarness, type Harness } from '../helpers/harness';
import { createPhone, fastOnboarding, scan, throughSignup } from '../helpers/onboard';
import { eventually } from '../helpers/wait';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.stop();
});

let seq = 0;
/** A fresh number for each scenario (one live onboarding a number). */
function nextNumber(): string {
  return `+1555010${String(++seq).padStart(4, '0')}`;
}

test('happy path: a number live in the app reaches Active with its status card', async () => {
  const phone = nextNumber();
  const { phoneNumberId } = await createPhone(h, phone);
  const linking = await throughSignup(h, phone);
  expect(linking.phoneNumberId).toBe(phoneNumberId);
  expect(linking.linking.attempts).toBe(1);
  expect(JSON.stringify(linking)).not.toMatch(/EAAG|sealedToken|code_/);

  await scan(h, phone);
  const active = await h.onboardingWhen(phone, (o) => o.stage === 'active' && o.statusCard.displayName !== undefined);
  expect(active.statusCard).toMatchObject({
    displayName: 'Jasper’s Market',
    qualityRating: 'GREEN',
    messagingLimitTier: 'TIER_250',
    sendingState: { canSend: true },
    throughput: { messagesPerSecond: 20 },
  });
  expect(active.sync.contacts.status).toBe('requested');
  const complete = await h.onboardingWhen(phone, (o) => o.sync.historyProgress.status === 'complete');
  expect(complete.sync.historyProgress.progress).toBe(100);

  const calls = (await h.sim('GET', '/calls')).body;
  expect(calls[`smb_app_data:history:${phone}`]).toBe(1);
  expect(calls[`smb_app_data:smb_app_state_sync:${phone}`]).toBe(1);
  expect(calls[`subscribed_apps:${phone}`]).toBe(1);
  await eventually(
    () => h.callbacks.received.filter((c) => c.phoneNumber === phone).map((c) => c.kind),
    (k) => k.includes('active'),
  );
  expect(h.callbacks.rejectedSignatures).toBe(0);

  // The business token Meta issued is in no event of the workflow's history, only its sealed form.
  const history = JSON.stringify(await h.env.client.workflow.getHandle(active.id).fetchHistory());
  const issued = [...h.simulator.world.tokens.keys()];
  expect(issued.length).toBeGreaterThan(0);
  for (const token of issued) expect(history).not.toContain(token);
});

test('the QR lapses twice, a fresh attempt starts by itself each time, then it is scanned', async () => {
  const phone = nextNumber();
  await createPhone(h, phone);
  await throughSignup(h, phone, { ...fastOnboarding, linkingAttemptTtlMs: 2_000, maxLinkingAttempts: 20 });
  const third = await h.onboardingWhen(phone, (o) => o.linking.attempts >= 3);
  expect(third.stage).toBe('linking');
  // On a loaded machine the third QR may lapse before the phone scans it: scan the current one.
  await eventually(
    () => h.sim('POST', `/linking/${phone}/scan`),
    (r) => r.status === 200,
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  expect((await h.api('POST', `/onboardings/${phone}/events`, { type: 'qrScanned' })).status).toBe(200);
  await h.onboardingWhen(phone, (o) => o.stage === 'active');
  const lapsed = h.callbacks.received.filter((c) => c.phoneNumber === phone && c.kind === 'linkingLapsed');
  expect(lapsed.length).toBeGreaterThanOrEqual(2);
  expect(String(lapsed[0]!.remedy)).toMatch(/Linked devices/);
  expect((await h.sim('GET', '/calls')).body[`linking/refresh:${phone}`]).toBeGreaterThanOrEqual(3);
});

test('a QR never scanned blocks with qr_not_scanned and the article’s remedy', async () => {
  const phone = nextNumber();
  await createPhone(h, phone);
  await throughSignup(h, phone, { ...fastOnboarding, linkingAttemptTtlMs: 1_000, maxLinkingAttempts: 2 });
  const blocked = await h.onboardingWhen(phone, (o) => o.stage === 'blocked');
  expect(blocked.blocked).toMatchObject({ reason: 'qr_not_scanned', stage: 'linking' });
  expect(blocked.blocked.remedy).toMatch(/refresh the code on Meta/);
  await eventually(() => h.callbacks.received.some((c) => c.phoneNumber === phone && c.kind === 'blocked'), Boolean);
});

test('an authorization code exchanged after 30 seconds blocks with signup_code_expired', async () => {
  const phone = nextNumber();
  await createPhone(h, phone);
  await h.api('POST', '/onboardings', { phoneNumber: phone });
  await h.api('POST', `/onboardings/${phone}/prerequisites`, {
    appVersion: '2.25.1',
    hasBusinessPortfolio: true,
    connectedElsewhere: false,
  });
  const signup = await h.sim('POST', '/signup', { phoneNumber: phone });
  await h.sim('POST', '/clock/advance', { ms: 31_000 });
  await h.api('POST', `/onboardings/${phone}/signup`, {
    event: signup.body.message.event,
    data: signup.body.message.data,
    code: signup.body.code,
  });
  const blocked = await h.onboardingWhen(phone, (o) => o.stage === 'blocked');
  expect(blocked.blocked.reason).toBe('signup_code_expired');
  expect(blocked.blocked.remedy).toMatch(/again/i);
});

test('a number already with another provider blocks at signup with the disconnect remedy', async () => {
  const phone = nextNumber();
  await createPhone(h, phone, { connectedElsewhere: true });
  await h.api('POST', '/onboardings', { phoneNumber: phone });
  await h.api('POST', `/onboardings/${phone}/prerequisites`, {
    appVersion: '2.25.1',
    hasBusinessPortfolio: true,
    connectedElsewhere: false,
  });
  const signup = await h.sim('POST', '/signup', { phoneNumber: phone });
  expect(signup.body.message).toMatchObject({ event: 'CANCEL', data: { error_code: '3441049' } });
  const res = await h.api('POST', `/onboardings/${phone}/signup`, { event: 'CANCEL', data: signup.body.message.data });
  expect(res.body.blocked).toMatchObject({ reason: 'connected_elsewhere', stage: 'signup' });
  expect(res.body.blocked.remedy).toMatch(/Disconnect/);
});

test('an app older than 2.24.17 blocks at prerequisites, and Meta’s 4563015 maps to the same remedy', async () => {
  const phone = nextNumber();
  await createPhone(h, phone, { appVersion: '2.24.9' });
  await h.api('POST', '/onboardings', { phoneNumber: phone });
  const pre = await h.api('POST', `/onboardings/${phone}/prerequisites`, {
    appVersion: '2.24.9',
    hasBusinessPortfolio: true,
    connectedElsewhere: false,
  });
  expect(pre.body.blocked).toMatchObject({ reason: 'app_too_old', stage: 'prerequisites' });
  expect(pre.body.blocked.remedy).toMatch(/2\.24\.17/);

  const signup = await h.sim('POST', '/signup', { phoneNumber: phone });
  expect(signup.body.message.data.error_code).toBe('4563015');
});

test('history declined is recorded as declined, distinct from never arrived', async () => {
  const phone = nextNumber();
  await createPhone(h, phone, { declinesHistory: true });
  await throughSignup(h, phone);
  await scan(h, phone);
  // Declining history is an outcome, not a failure: the onboarding still reaches Active.
  const declined = await h.onboardingWhen(phone, (o) => o.sync.historyProgress.status === 'declined' && o.stage === 'active');
  expect(declined.sync.contacts.status).toBe('requested');
  expect(declined.sync.history.status).toBe('requested');
});

test('without a payment method sending is blocked until the backend says one was added', async () => {
  const phone = nextNumber();
  await createPhone(h, phone, { paymentMethod: false });
  await throughSignup(h, phone);
  await scan(h, phone);
  const waiting = await h.onboardingWhen(
    phone,
    (o) => o.stage === 'payment' && o.statusCard.sendingState.reason === 'payment_missing',
  );
  expect(waiting.statusCard.sendingState.canSend).toBe(false);
  expect(waiting.statusCard.sendingState.remedy).toMatch(/Add payment details/);

  await h.sim('PATCH', `/numbers/${phone}`, { paymentMethod: true });
  expect((await h.api('POST', `/onboardings/${phone}/events`, { type: 'paymentAdded' })).status).toBe(200);
  const active = await h.onboardingWhen(phone, (o) => o.stage === 'active' && o.statusCard.sendingState.canSend === true);
  expect(active.statusCard.sendingState.reason).toBeUndefined();
});

test('Meta 5xx bursts and a call that timed out after Meta applied it are absorbed, with no effect twice', async () => {
  const phone = nextNumber();
  await createPhone(h, phone);
  await throughSignup(h, phone);
  await h.sim('PUT', '/faults', {
    errorRate: 0.5,
    seed: 7,
    endpoints: ['node', 'waba/subscribed_apps'],
    dropAfterApply: ['waba/subscribed_apps'],
  });
  try {
    await scan(h, phone);
    await h.onboardingWhen(phone, (o) => o.stage === 'active', 60_000);
  } finally {
    await h.sim('DELETE', '/faults');
  }
  expect((await h.sim('GET', '/calls')).body[`subscribed_apps:${phone}`]).toBe(1);
});

test('cancel midway ends the onboarding, and it then refuses further events', async () => {
  const phone = nextNumber();
  await createPhone(h, phone);
  await throughSignup(h, phone);
  const cancelled = await h.api('POST', `/onboardings/${phone}/events`, { type: 'cancel' });
  expect(cancelled.body.state).toBe('cancelled');
  const after = await h.onboardingWhen(phone, (o) => o.status === 'done');
  expect(after.stage).toBe('cancelled');
  const refused = await h.api('POST', `/onboardings/${phone}/events`, { type: 'qrScanned' });
  expect(refused.status).toBe(409);
});

test('registration: polling finds a late confirmation; past the deadline it is stuck with a reason', async () => {
  await h.sim('PUT', '/health-lag', { ms: 1_500 });
  try {
    const late = nextNumber();
    await createPhone(h, late);
    await throughSignup(h, late);
    await scan(h, late);
    const active = await h.onboardingWhen(late, (o) => o.stage === 'active');
    expect(active.registration.checks).toBeGreaterThan(1);

    await h.sim('PUT', '/health-lag', { ms: 3_600_000 });
    const never = nextNumber();
    await createPhone(h, never);
    await throughSignup(h, never, { ...fastOnboarding, registrationDeadlineMs: 2_000 });
    await scan(h, never);
    const stuck = await h.onboardingWhen(never, (o) => o.state === 'registration.stuck');
    expect(stuck.blocked).toMatchObject({ reason: 'registration_not_confirmed', stage: 'registration' });
  } finally {
    await h.sim('PUT', '/health-lag', { ms: 0 });
  }
});

test('partner removed, then reconnected; duplicated and late lifecycle webhooks change nothing', async () => {
  const phone = nextNumber();
  const { wabaId } = await createPhone(h, phone);
  await throughSignup(h, phone);
  await scan(h, phone);
  await h.onboardingWhen(phone, (o) => o.stage === 'active');

  const display = phone.slice(1);
  const removed = {
    phone_number: display,
    event: 'PARTNER_REMOVED',
    disconnection_info: { reason: 'PRIMARY_INACTIVITY', initiated_by: 'SYSTEM' },
  };
  const now = Math.floor(Date.now() / 1000);
  await h.sim('POST', '/webhooks', { wabaId, field: 'account_update', value: removed, time: now + 10 });
  const offboarded = await h.onboardingWhen(phone, (o) => o.stage === 'offboarded');
  expect(offboarded.offboarding).toMatchObject({ event: 'PARTNER_REMOVED', reason: 'PRIMARY_INACTIVITY' });

  // As in Meta's examples, ACCOUNT_RECONNECTED names no number: it reaches the WABA's onboarding.
  await h.sim('POST', '/webhooks', { wabaId, field: 'account_update', value: { event: 'ACCOUNT_RECONNECTED' }, time: now + 20 });
  await h.onboardingWhen(phone, (o) => o.stage === 'active');

  // The same PARTNER_REMOVED delivered again, and one older than the reconnection.
  await h.sim('POST', '/webhooks', { wabaId, field: 'account_update', value: removed, time: now + 10 });
  await h.sim('POST', '/webhooks', { wabaId, field: 'account_update', value: removed, time: now + 15 });
  await eventually(
    () => h.sim('GET', '/webhooks'),
    (r) => r.body.pending === 0,
  );
  // Delivered means Temporal holds both signals; a workflow task completed after the last of them
  // means the workflow has processed them.
  const handle = h.env.client.workflow.getHandle(offboarded.id);
  const events = async () => (await handle.fetchHistory()).events ?? [];
  const lastSignal = (await events()).map((e) => Boolean(e.workflowExecutionSignaledEventAttributes)).lastIndexOf(true);
  expect(lastSignal).toBeGreaterThan(0);
  await eventually(events, (all) => all.slice(lastSignal + 1).some((e) => e.workflowTaskCompletedEventAttributes));
  const still = (await h.api('GET', `/onboardings/${phone}`)).body;
  expect(still.stage).toBe('active');
});
