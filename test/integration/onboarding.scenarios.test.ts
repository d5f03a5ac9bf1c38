/**
 * Onboarding scenarios on real Temporal (dev server), through the API and the Graph simulator
 * over HTTP, with signed webhooks and signed backend callbacks.
 */
import { startHarness, type Harness } from '../helpers/harness';
import { createPhone, fastOnboarding, finishSignup, scan, throughSignup } from '../helpers/onboard';
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
  // Meta's popup shows the QR; nothing of the WABA is known before FINISH.
  expect(linking.phoneNumberId).toBeNull();
  expect(linking.linking.attempts).toBe(1);

  const finished = await scan(h, phone);
  expect(JSON.stringify(finished.body)).not.toMatch(/EAAG|sealedToken|code_/);
  const active = await h.onboardingWhen(phone, (o) => o.stage === 'active' && o.statusCard.displayName !== undefined);
  expect(active.phoneNumberId).toBe(phoneNumberId);
  // Meta's 24 h sync window, from FINISH, on the card.
  expect(active.statusCard.syncDeadline).toBeGreaterThan(Date.now() + 23 * 3_600_000);
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

test('the QR lapses twice inside the signup session, the person refreshes it on Meta screen, the phone scans', async () => {
  const phone = nextNumber();
  await createPhone(h, phone);
  await throughSignup(h, phone, { ...fastOnboarding, linkingAttemptTtlMs: 2_000, maxLinkingAttempts: 20 });
  const third = await h.onboardingWhen(phone, (o) => o.linking.attempts >= 3);
  expect(third.stage).toBe('linking');
  // Meta posts FINISH only after the scan: the page forwards it, and FINISH proves the link.
  expect((await scan(h, phone)).status).toBe(200);
  await h.onboardingWhen(phone, (o) => o.stage === 'active');
  const lapsed = h.callbacks.received.filter((c) => c.phoneNumber === phone && c.kind === 'linkingLapsed');
  expect(lapsed.length).toBeGreaterThanOrEqual(2);
  expect(String(lapsed[0]!.remedy)).toMatch(/refresh the code on Meta/);
  // No QR is asked of anyone but Meta's popup: the simulator issued the session's one QR.
  expect((await h.sim('GET', '/calls')).body[`linking/refresh:${phone}`]).toBe(1);
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
  await finishSignup(h, phone);
  // The phone scans; Meta posts FINISH with a code the backend forwards 31 s late.
  const scanned = await h.sim('POST', `/linking/${phone}/scan`);
  await h.sim('POST', '/clock/advance', { ms: 31_000 });
  await h.api('POST', `/onboardings/${phone}/signup`, {
    event: scanned.body.message.event,
    data: scanned.body.message.data,
    code: scanned.body.code,
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

test('partner removed, then reconnected; webhooks are hints: duplicates once, and a removal Meta contradicts changes nothing', async () => {
  const phone = nextNumber();
  const { wabaId } = await createPhone(h, phone);
  await throughSignup(h, phone);
  await scan(h, phone);
  await h.onboardingWhen(phone, (o) => o.stage === 'active');

  const now = Math.floor(Date.now() / 1000);
  await h.sim('POST', `/numbers/${phone}/partner-removed`, { reason: 'PRIMARY_INACTIVITY', time: now + 10 });
  const offboarded = await h.onboardingWhen(phone, (o) => o.stage === 'offboarded');
  expect(offboarded.offboarding).toMatchObject({ event: 'PARTNER_REMOVED', reason: 'PRIMARY_INACTIVITY' });

  // As in Meta's examples, ACCOUNT_RECONNECTED names no number: it reaches the WABA's onboarding.
  await h.sim('POST', `/numbers/${phone}/reconnect`, { time: now + 20 });
  await h.onboardingWhen(phone, (o) => o.stage === 'active');

  // The same PARTNER_REMOVED delivered again (recorded once), and another one that Meta's read of
  // the number contradicts: the number is connected, so it stays active.
  const removed = {
    phone_number: phone.slice(1),
    event: 'PARTNER_REMOVED',
    disconnection_info: { reason: 'PRIMARY_INACTIVITY', initiated_by: 'SYSTEM' },
  };
  await h.sim('POST', '/webhooks', { wabaId, field: 'account_update', value: removed, time: now + 10 });
  await h.sim('POST', '/webhooks', { wabaId, field: 'account_update', value: removed, time: now + 15 });
  const settled = await h.onboardingWhen(phone, (o) => o.lifecycleEvents.length === 3 && /statusCard\.scheduled/.test(o.state));
  expect(settled.stage).toBe('active');
  expect(settled.lifecycleEvents.map((e: { event: string; time: number }) => [e.event, e.time - now])).toEqual([
    ['PARTNER_REMOVED', 10],
    ['ACCOUNT_RECONNECTED', 20],
    ['PARTNER_REMOVED', 15],
  ]);
});
