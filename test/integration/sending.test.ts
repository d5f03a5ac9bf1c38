/**
 * Sending on real Temporal (dev server), through the API and the Graph simulator over HTTP: what
 * the number's state holds back, what late failures stop, and the send queue's backpressure.
 */
import { signWebhook } from '../../api/webhooks/signature';
import { API_KEY, startHarness, type Harness } from '../helpers/harness';
import { onboardToActive } from '../helpers/onboard';
import { eventually } from '../helpers/wait';

const DEPTH_LIMIT = 8;
let h: Harness;

beforeAll(async () => {
  // Held sends looked at every second, so that a window closing while held is seen at once.
  h = await startHarness({ env: { SEND_HELD_RECHECK_MS: '1000', SEND_QUEUE_DEPTH_LIMIT: String(DEPTH_LIMIT) } });
});

afterAll(async () => {
  await h?.stop();
});

let customers = 0;
const nextCustomer = () => `1650566${String(++customers).padStart(4, '0')}`;

const text = (body: string) => ({ type: 'text', text: { body } });
const template = { type: 'template', template: { name: 'order_update', language: 'en_US', category: 'utility' } };

function numberOf(phone: string, ids: { phoneNumberId: string; wabaId: string }) {
  const { phoneNumberId, wabaId } = ids;
  const send = (waId: string, clientMessageId: string, message: Record<string, unknown>) =>
    h.api('POST', `/numbers/${phoneNumberId}/conversations/${waId}/messages`, { clientMessageId, message });
  const messages = async (waId: string) =>
    (await h.api('GET', `/numbers/${phoneNumberId}/conversations/${waId}/messages?order=asc&limit=200`)).body.messages as any[];
  const sentLog = async () => (await h.sim('GET', `/numbers/${phone}/sent`)).body;
  const sentIds = async () => ((await sentLog()).sent as any[]).map((s) => s.bizOpaqueCallbackData as string);
  const customerWrites = async (waId: string) => {
    expect((await h.sim('POST', `/numbers/${phone}/customers/${waId}/messages`, { text: 'Hi' })).status).toBeLessThan(300);
    await eventually(
      () => h.api('GET', `/numbers/${phoneNumberId}/conversations/${waId}`),
      (r) => r.body?.customerServiceWindow?.status === 'open',
    );
  };
  /** A signed webhook as Meta sends it, straight to the API. */
  const postSigned = async (field: string, value: unknown, time = Math.floor(Date.now() / 1000)) => {
    const raw = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: wabaId, time, changes: [{ field, value }] }],
    });
    const response = await fetch(`${h.apiUrl}/webhooks/meta`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhook(raw, h.config.META_APP_SECRET) },
      body: raw,
    });
    expect(response.status).toBe(200);
  };
  const offboard = async () => {
    // Meta's side offboards the number (the onboarding re-reads it) and sends ACCOUNT_OFFBOARDED,
    // dated a minute in the past so that the reconnection (the simulator's clock) comes later.
    const time = Math.floor(Date.now() / 1000) - 60;
    expect((await h.sim('POST', `/numbers/${phone}/offboarded`, { time })).status).toBe(200);
    await h.onboardingWhen(phone, (o) => o.statusCard.sendingState.reason === 'offboarded');
  };
  const statuses = async (waId: string, ids: string[]) => {
    const all = await messages(waId);
    return ids.map((id) => all.find((m) => m.clientMessageId === id)?.status);
  };
  return { phoneNumberId, send, messages, sentLog, sentIds, customerWrites, postSigned, offboard, statuses };
}

test('held while payment is missing, then sent in order after paymentAdded', async () => {
  const phone = '+15550300001';
  const n = numberOf(phone, await onboardToActive(h, phone));
  const waId = nextCustomer();
  await n.customerWrites(waId);

  // Meta refuses the first send for want of a payment method: the number stops, the rest wait.
  await h.sim('PATCH', `/numbers/${phone}`, { paymentMethod: false });
  const ids = ['pay-1', 'pay-2', 'pay-3', 'pay-4'];
  for (const [i, id] of ids.entries()) expect((await n.send(waId, id, text(`message ${i + 1}`))).status).toBe(202);
  await eventually(
    () => n.statuses(waId, ids),
    (s) => s[0] === 'failed' && s.slice(1).every((x) => x === 'held'),
  );
  const held = (await n.messages(waId)).filter((m) => m.status === 'held');
  expect(held.map((m) => m.reason)).toEqual(['payment_missing', 'payment_missing', 'payment_missing']);
  expect(held[0].remedy).toMatch(/payment/i);
  expect((await n.sentLog()).rejected['131042']).toBe(1);
  await h.onboardingWhen(phone, (o) => o.statusCard.sendingState.reason === 'payment_missing');

  await h.sim('PATCH', `/numbers/${phone}`, { paymentMethod: true });
  expect((await h.api('POST', `/onboardings/${phone}/events`, { type: 'paymentAdded' })).status).toBe(200);
  await eventually(
    () => n.statuses(waId, ids.slice(1)),
    (s) => s.every((x) => x === 'delivered'),
    { timeoutMs: 60_000 },
  );
  expect(await n.sentIds()).toEqual(['pay-2', 'pay-3', 'pay-4']);
  expect((await n.messages(waId)).find((m) => m.clientMessageId === 'pay-2').reason).toBeUndefined();
});

test('held across an ACCOUNT_OFFBOARDED → ACCOUNT_RECONNECTED gap, then sent in order', async () => {
  const phone = '+15550300002';
  const n = numberOf(phone, await onboardToActive(h, phone));
  const [a, b] = [nextCustomer(), nextCustomer()];
  await n.offboard();

  const ids = ['gap-a1', 'gap-b1', 'gap-a2', 'gap-b2'];
  for (const id of ids) expect((await n.send(id.includes('-a') ? a : b, id, template)).status).toBe(202);
  await eventually(
    async () => [...(await n.statuses(a, ['gap-a1', 'gap-a2'])), ...(await n.statuses(b, ['gap-b1', 'gap-b2']))],
    (s) => s.every((x) => x === 'held'),
  );
  expect((await n.messages(a))[0]).toMatchObject({ status: 'held', reason: 'offboarded' });
  expect(await n.sentIds()).toEqual([]);

  await h.sim('POST', `/numbers/${phone}/reconnect`);
  await eventually(
    async () => [...(await n.statuses(a, ['gap-a1', 'gap-a2'])), ...(await n.statuses(b, ['gap-b1', 'gap-b2']))],
    (s) => s.every((x) => x === 'delivered'),
    { timeoutMs: 60_000 },
  );
  const sent = await n.sentIds();
  expect(sent.filter((id) => id.includes('-a'))).toEqual(['gap-a1', 'gap-a2']);
  expect(sent.filter((id) => id.includes('-b'))).toEqual(['gap-b1', 'gap-b2']);
});

test('a free-form message held past its customer service window is failed, never sent', async () => {
  const phone = '+15550300003';
  const n = numberOf(phone, await onboardToActive(h, phone));
  const waId = nextCustomer();
  // The customer wrote 24 h minus 6 s ago: the window closes in 6 s.
  const seconds = Math.floor(Date.now() / 1000);
  await n.postSigned('messages', {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: phone.slice(1), phone_number_id: n.phoneNumberId },
    contacts: [{ wa_id: waId, profile: { name: 'Late' } }],
    messages: [
      { from: waId, id: `wamid.late-${waId}`, timestamp: String(seconds - 86_400 + 6), type: 'text', text: { body: 'Hi' } },
    ],
  });
  await eventually(
    () => h.api('GET', `/numbers/${n.phoneNumberId}/conversations/${waId}`),
    (r) => r.body?.customerServiceWindow?.status === 'open',
  );
  await n.offboard();
  expect((await n.send(waId, 'late-free-form', text('Still there?'))).status).toBe(202);
  await eventually(
    () => n.statuses(waId, ['late-free-form']),
    ([s]) => s === 'held',
  );

  const [failed] = await eventually(
    async () => (await n.messages(waId)).filter((m) => m.clientMessageId === 'late-free-form'),
    ([m]) => m?.status === 'failed',
    { timeoutMs: 60_000 },
  );
  expect(failed.reason).toBe('customer_service_window_closed');
  // Reconnected, nothing of it goes out.
  await h.sim('POST', `/numbers/${phone}/reconnect`);
  await h.onboardingWhen(phone, (o) => o.statusCard.sendingState.canSend === true);
  expect((await n.send(waId, 'after-template', template)).status).toBe(202);
  await eventually(n.sentIds, (ids) => ids.includes('after-template'), { timeoutMs: 60_000 });
  expect(await n.sentIds()).toEqual(['after-template']);
});

test('a failed status with 131042 after an accepted send stops the number, tells the backend and holds the rest; 429 beyond the depth', async () => {
  const phone = '+15550300004';
  const n = numberOf(phone, await onboardToActive(h, phone));
  const waId = nextCustomer();
  await n.customerWrites(waId);

  // A failure that concerns one customer (131026: not on WhatsApp) stays with that message.
  expect((await n.send(waId, 'late-0', text('zero'))).status).toBe(202);
  const [first] = await eventually(
    async () => (await n.messages(waId)).filter((m) => m.clientMessageId === 'late-0'),
    ([m]) => m?.status === 'delivered',
  );
  expect((await h.sim('POST', `/messages/${first.wamid}/status`, { status: 'failed', errorCode: 131026 })).status).toBe(202);
  await eventually(
    () => n.statuses(waId, ['late-0']),
    ([s]) => s === 'failed',
  );
  expect((await n.send(waId, 'late-1', text('one'))).status).toBe(202);
  const [accepted] = await eventually(
    async () => (await n.messages(waId)).filter((m) => m.clientMessageId === 'late-1'),
    ([m]) => m?.status === 'delivered',
  );
  expect((await h.api('GET', `/onboardings/${phone}`)).body.statusCard.sendingState.canSend).toBe(true);

  // Meta took it, then reports it failed for want of payment.
  const callbacksBefore = h.callbacks.received.filter((c) => c.kind === 'paymentRequired' && c.phoneNumber === phone).length;
  expect((await h.sim('POST', `/messages/${accepted.wamid}/status`, { status: 'failed', errorCode: 131042 })).status).toBe(202);
  await h.onboardingWhen(phone, (o) => o.statusCard.sendingState.reason === 'payment_missing');
  await eventually(
    async () => h.callbacks.received.filter((c) => c.kind === 'paymentRequired' && c.phoneNumber === phone).length,
    (count) => count === callbacksBefore + 1,
  );

  const rest = ['late-2', 'late-3', 'late-4'];
  for (const id of rest) expect((await n.send(waId, id, text(id))).status).toBe(202);
  await eventually(
    () => n.statuses(waId, rest),
    (s) => s.every((x) => x === 'held'),
  );
  expect((await n.messages(waId)).find((m) => m.clientMessageId === 'late-2').reason).toBe('payment_missing');
  expect(await n.sentIds()).toEqual(['late-0', 'late-1']);

  // Backpressure: once the number's queue holds DEPTH_LIMIT sends, a send gets 429 with Retry-After and the depth.
  for (let i = 0; i < DEPTH_LIMIT - rest.length; i++) expect((await n.send(waId, `fill-${i}`, text('fill'))).status).toBe(202);
  let extra = 0;
  const full = await eventually(
    () => n.send(waId, `extra-${extra++}`, text('one too many')),
    (r) => r.status === 429,
  );
  expect(full.body.error).toMatchObject({ code: 'send_queue_full', limit: DEPTH_LIMIT });
  expect(full.body.error.depth).toBeGreaterThanOrEqual(DEPTH_LIMIT);
  const again = await fetch(`${h.apiUrl}/numbers/${n.phoneNumberId}/conversations/${waId}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
    body: JSON.stringify({ clientMessageId: 'retry-after', message: text('again') }),
  });
  expect(again.status).toBe(429);
  expect(Number(again.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

  // A 429 is not an Idempotency-Key's kept answer: once the queue drained, the same request is sent.
  const keyed = () =>
    fetch(`${h.apiUrl}/numbers/${n.phoneNumberId}/conversations/${waId}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, 'idempotency-key': 'full-then-room' },
      body: JSON.stringify({ clientMessageId: 'keyed-after-429', message: text('keyed') }),
    });
  expect((await keyed()).status).toBe(429);
  expect((await h.api('POST', `/onboardings/${phone}/events`, { type: 'paymentAdded' })).status).toBe(200);
  await eventually(
    () => n.statuses(waId, rest),
    (s) => s.every((x) => x === 'delivered'),
    { timeoutMs: 60_000 },
  );
  const sent = await eventually(keyed, (r) => r.status !== 429, { timeoutMs: 60_000 });
  expect(sent.status).toBe(202);
  expect(sent.headers.get('idempotent-replayed')).toBeNull();
  await eventually(n.sentIds, (ids) => ids.includes('keyed-after-429'), { timeoutMs: 60_000 });
}, 180_000);
