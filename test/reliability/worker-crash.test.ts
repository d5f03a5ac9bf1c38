/**
 * Worker crash (issue 9, item 1): the worker process is SIGKILLed with onboardings parked in every
 * stage and with Meta calls in flight (a sync request, a subscribe, a message send); new workers finish every
 * onboarding, and the simulator's counts show no Meta effect applied twice.
 */
import { createPhone, fastOnboarding, finishSignup, scan, throughSignup } from '../helpers/onboard';
import { separateStackMissing, startSeparateStack, type SeparateStack } from '../helpers/separate-stack';
import { eventually } from '../helpers/wait';

const missing = separateStackMissing();
if (missing) console.warn(`worker crash tests SKIPPED: ${missing}`);

let stack: SeparateStack;
beforeAll(async () => {
  if (!missing) stack = await startSeparateStack();
});
afterAll(async () => {
  await stack?.stop();
});

const phones = {
  prerequisites: '+15550910001',
  signup: '+15550910002',
  linking: '+15550910003',
  registration: '+15550910004',
  sync: '+15550910007',
  payment: '+15550910005',
  active: '+15550910006',
};
const waId = '16505559001';

(missing ? test.skip : test)(
  'SIGKILLed workers with onboardings in every stage and Meta calls in flight: every onboarding completes, no effect twice',
  async () => {
    const s = stack;
    let worker = await s.startWorker();
    await s.startApi();
    let kills = 0;
    const killWorker = async () => {
      expect(await worker.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
      kills++;
    };

    for (const [stage, phone] of Object.entries(phones)) await createPhone(s, phone, { paymentMethod: stage !== 'payment' });
    // Parked: waiting for the backend's report, for Embedded Signup, for the QR scan, for a payment method.
    await s.api('POST', '/onboardings', { phoneNumber: phones.prerequisites, settings: fastOnboarding });
    const pre = await s.api('POST', '/onboardings', { phoneNumber: phones.signup, settings: fastOnboarding });
    expect(pre.status).toBe(201);
    await s.api('POST', `/onboardings/${phones.signup}/prerequisites`, {
      appVersion: '2.25.1',
      hasBusinessPortfolio: true,
      connectedElsewhere: false,
    });
    await throughSignup(s, phones.linking);
    await throughSignup(s, phones.payment);
    await scan(s, phones.payment);
    await s.onboardingWhen(phones.payment, (o) => o.stage === 'payment');
    // Active, with a customer whose message opened the window.
    await throughSignup(s, phones.active);
    await scan(s, phones.active);
    const active = await s.onboardingWhen(phones.active, (o) => o.stage === 'active');
    const phoneNumberId: string = active.phoneNumberId;
    expect(phoneNumberId).toMatch(/^\d+$/);
    await s.sim('POST', `/numbers/${phones.active}/customers/${waId}/messages`, { text: 'Is my order ready?' });
    const messages = () =>
      s
        .api('GET', `/numbers/${phoneNumberId}/conversations/${waId}/messages?order=asc&limit=200`)
        .then((r) => (r.body?.messages ?? []) as any[]);
    await eventually(messages, (m) => m.length === 1, { timeoutMs: 60_000 });

    // In flight: Meta holds the contacts sync request (never retried: a second one would be refused),
    // the subscribe and the send; the worker dies meanwhile; Meta still applies them.
    await throughSignup(s, phones.sync);
    await throughSignup(s, phones.registration);
    const syncsBefore: number = (await s.sim('GET', '/requests')).body['POST smb_app_data'];
    await s.sim('PUT', '/faults', { latencyMs: 30_000, endpoints: ['smb_app_data'] });
    await scan(s, phones.sync);
    await eventually(
      () => s.sim('GET', '/requests'),
      (r) => r.body['POST smb_app_data'] === syncsBefore + 1,
      { timeoutMs: 60_000 },
    );
    const subscribesBefore: number = (await s.sim('GET', '/requests')).body['POST waba/subscribed_apps'];
    await s.sim('PUT', '/faults', { latencyMs: 8_000, endpoints: ['waba/subscribed_apps', 'messages'] });
    await scan(s, phones.registration);
    const sent = await s.api('POST', `/numbers/${phoneNumberId}/conversations/${waId}/messages`, {
      clientMessageId: 'crash-1',
      message: { type: 'text', text: { body: 'Yes, ready for pickup' } },
    });
    expect(sent.status).toBe(202);
    await eventually(
      () => s.sim('GET', '/requests'),
      (r) => r.body['POST waba/subscribed_apps'] === subscribesBefore + 1 && r.body['POST messages'] === 1,
      { timeoutMs: 60_000 },
    );
    for (const [stage, phone] of Object.entries(phones)) {
      if (stage === 'active') continue;
      expect({ stage, now: (await s.api('GET', `/onboardings/${phone}`)).body.stage }).toEqual({ stage, now: stage });
    }
    await killWorker();
    await s.sim('DELETE', '/faults');

    // Kill 2: a new worker takes over, two onboardings move on, and it dies too.
    worker = await s.startWorker();
    await s.api('POST', `/onboardings/${phones.prerequisites}/prerequisites`, {
      appVersion: '2.25.1',
      hasBusinessPortfolio: true,
      connectedElsewhere: false,
    });
    await s.onboardingWhen(phones.prerequisites, (o) => o.stage === 'signup');
    await finishSignup(s, phones.signup);
    await killWorker();

    worker = await s.startWorker();
    await finishSignup(s, phones.prerequisites);
    for (const phone of [phones.prerequisites, phones.signup, phones.linking]) await scan(s, phone);
    await s.sim('PATCH', `/numbers/${phones.payment}`, { paymentMethod: true });
    await s.api('POST', `/onboardings/${phones.payment}/events`, { type: 'paymentAdded' });
    for (const phone of Object.values(phones)) await s.onboardingWhen(phone, (o) => o.stage === 'active', 180_000);

    // Meta's effects, each applied once per number, however many requests the retries made.
    const calls = (await s.sim('GET', '/calls')).body;
    for (const phone of Object.values(phones)) {
      expect({
        phone,
        subscribed: calls[`subscribed_apps:${phone}`],
        contacts: calls[`smb_app_data:smb_app_state_sync:${phone}`],
        history: calls[`smb_app_data:history:${phone}`],
      }).toEqual({ phone, subscribed: 1, contacts: 1, history: 1 });
    }
    // The send Meta accepted while its worker died is never repeated (Meta has no idempotency key),
    // and its status webhook settles it.
    expect(calls[`messages:${phones.active}`]).toBe(1);
    const [wamidSent] = (await s.sim('GET', `/numbers/${phones.active}/sent`)).body.sent;
    const settled = await eventually(
      messages,
      (m) => m.some((x) => x.clientMessageId === 'crash-1' && x.status === 'delivered'),
      { timeoutMs: 120_000 },
    );
    expect(settled.filter((x) => x.direction === 'outbound')).toEqual([
      expect.objectContaining({ wamid: wamidSent.wamid, clientMessageId: 'crash-1' }),
    ]);

    const requests = (await s.sim('GET', '/requests')).body;
    // Sync requests and sends are never retried (Meta refuses a second sync; a second send is a second message).
    expect({ sync: requests['POST smb_app_data'], messages: requests['POST messages'] }).toEqual({
      sync: 2 * Object.values(phones).length,
      messages: 1,
    });
    console.log(
      `worker crash: kills survived ${kills}; onboardings ${Object.keys(phones).length}/${Object.keys(phones).length} active; ` +
        `subscribed_apps requests ${requests['POST waba/subscribed_apps']} applied ${Object.values(phones).length}; ` +
        `smb_app_data requests ${requests['POST smb_app_data']} applied ${2 * Object.values(phones).length}; messages requests ${requests['POST messages']} applied 1`,
    );
  },
);
