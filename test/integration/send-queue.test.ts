/**
 * The send queue and the number registry in the message store (embedded PGlite): what the sender
 * relies on to send each message once, in order, and to hold and fail what must not go out.
 */
import { openMessageStore, type MessageStore } from '../../store';
import type { MessageRecord, QueueSendParams } from '../../machines/conversation';

let store: MessageStore;
beforeAll(async () => {
  store = await openMessageStore({ DATABASE_URL: 'memory://', TEMPORAL_DATA_DIR: '.data' });
});
afterAll(async () => {
  await store?.close();
});

let unique = 0;
const number = () => `pn-${++unique}`;
const HOUR = 3_600_000;

function send(
  phoneNumberId: string,
  waId: string,
  id: string,
  over: Partial<QueueSendParams> = {},
  at = Date.now(),
): QueueSendParams {
  const record: MessageRecord = {
    id: `client:${id}`,
    clientMessageId: id,
    phoneNumberId,
    waId,
    direction: 'outbound',
    source: 'platform',
    type: 'text',
    content: { text: { body: id } },
    timestamp: at,
    status: 'queued',
    statusAt: at,
    pricing: { billable: false, type: 'free_customer_service', category: 'service', basis: 'predicted' },
  };
  return { record, tellAccepted: false, ...over };
}

const statusOf = async (phoneNumberId: string, waId: string) =>
  Object.fromEntries(
    (await store.listMessages({ phoneNumberId, waId, limit: 200, order: 'asc' })).messages.map((m) => [m.clientMessageId, m]),
  );

test('a send is added once, claimed once, and a requeued one keeps its place before its customer’s later sends', async () => {
  const pn = number();
  expect(await store.queue.add(send(pn, '1', 'a1'))).toEqual({ added: true, wake: true });
  // The sender is awake now: the next send does not wake it; the same one again is not added.
  expect(await store.queue.add(send(pn, '1', 'a2'))).toEqual({ added: true, wake: false });
  expect(await store.queue.add(send(pn, '1', 'a1'))).toEqual({ added: false, wake: false });
  await store.queue.add(send(pn, '2', 'b1'));
  expect(await store.queue.depth(pn)).toBe(3);

  const heads = await store.queue.peek(pn, 10);
  expect(heads.map((h) => h.waId)).toEqual(['1', '1', '2']);
  const claimed = await store.queue.claim(pn, heads[0]!.id, Date.now());
  expect(claimed).toMatchObject({ clientMessageId: 'a1', waId: '1', message: { type: 'text', text: { body: 'a1' } } });
  expect(await store.queue.claim(pn, heads[0]!.id, Date.now())).toBeUndefined();
  expect((await statusOf(pn, '1')).a1.status).toBe('unconfirmed');
  expect(await store.queue.depth(pn)).toBe(2);

  // Meta did not take it (131056): back in its place, ahead of a2, not before its time.
  await store.queue.requeue(pn, claimed!.id, { at: Date.now(), notBefore: Date.now() + 60_000, attempts: 1 });
  const again = await store.queue.peek(pn, 10);
  expect(again.map((h) => h.id)).toEqual(['client:a1', 'client:a2', 'client:b1']);
  expect(again[0]!.notBefore).toBeGreaterThan(Date.now());
});

test('held with the reason, released in order; the registry says when a number can send again', async () => {
  const pn = number();
  expect(
    await store.numbers.record({ phoneNumberId: pn, onboardingWorkflowId: 'onboarding:+1', canSend: true, updatedAt: 1 }),
  ).toEqual({
    released: true,
  });
  await store.numbers.record({
    phoneNumberId: pn,
    onboardingWorkflowId: 'onboarding:+1',
    canSend: false,
    reason: 'payment_missing',
    remedy: 'Add payment details',
    updatedAt: 2,
  });
  // Added while the registry says the number cannot send: held at once.
  await store.queue.add(send(pn, '1', 'h1'));
  expect((await statusOf(pn, '1')).h1).toMatchObject({
    status: 'held',
    reason: 'payment_missing',
    remedy: 'Add payment details',
  });
  expect(await store.queue.peek(pn, 10)).toEqual([]);

  // An older write never replaces a newer one.
  expect(
    await store.numbers.record({ phoneNumberId: pn, onboardingWorkflowId: 'onboarding:+1', canSend: true, updatedAt: 1 }),
  ).toEqual({
    released: false,
  });
  expect((await store.numbers.get(pn))?.canSend).toBe(false);
  expect(
    await store.numbers.record({ phoneNumberId: pn, onboardingWorkflowId: 'onboarding:+1', canSend: true, updatedAt: 3 }),
  ).toEqual({
    released: true,
  });
  expect(await store.queue.release(pn)).toBe(1);
  const released = (await statusOf(pn, '1')).h1;
  expect(released.status).toBe('queued');
  expect(released.reason).toBeUndefined();
});

test('a held send fails past the hold limit, a free-form one when its window closed unless the customer wrote again', async () => {
  const pn = number();
  const now = Date.now();
  await store.queue.add(send(pn, '1', 'old-template', {}, now - 25 * HOUR));
  await store.queue.add(send(pn, '2', 'closed-window', { windowExpiresAt: now - 1000 }));
  await store.queue.add(send(pn, '3', 'reopened-window', { windowExpiresAt: now - 1000 }));
  await store.queue.add(send(pn, '4', 'open-window', { windowExpiresAt: now + HOUR }));
  // Customer 3 wrote again after the send was queued: the window is open again.
  await store.recordMessage({
    id: `wamid.reopen-${pn}`,
    phoneNumberId: pn,
    waId: '3',
    direction: 'inbound',
    source: 'customer',
    type: 'text',
    content: { text: { body: 'still here' } },
    timestamp: now - 60_000,
    status: 'received',
    pricing: { billable: false, type: 'inbound', basis: 'predicted' },
  });
  expect(await store.queue.hold(pn, 'offboarded', undefined)).toBe(4);

  const rule = { now, windowMs: 24 * HOUR, holdLimitMs: 24 * HOUR };
  const expired = await store.queue.expire(pn, rule);
  expect(expired.map((e) => [e.clientMessageId, e.reason]).sort()).toEqual([
    ['closed-window', 'customer_service_window_closed'],
    ['old-template', 'hold_limit_reached'],
  ]);
  expect((await statusOf(pn, '2'))['closed-window']).toMatchObject({
    status: 'failed',
    reason: 'customer_service_window_closed',
  });
  expect((await statusOf(pn, '3'))['reopened-window'].status).toBe('held');
  expect((await statusOf(pn, '4'))['open-window'].status).toBe('held');
  // Next: when customer 4's window closes, in an hour (customer 3's, reopened, closes later).
  expect(await store.queue.nextExpiry(pn, rule)).toBe(now + HOUR);
});

test('acceptances written in bulk keep a later status that came first', async () => {
  const pn = number();
  await store.queue.add(send(pn, '1', 'x1'));
  await store.queue.add(send(pn, '1', 'x2'));
  const [h1, h2] = await store.queue.peek(pn, 10);
  await store.queue.claim(pn, h1!.id, Date.now());
  await store.queue.claim(pn, h2!.id, Date.now());
  // The delivered status of x2 arrives (by client message id) before the sender writes its answer.
  await store.applyStatus({
    phoneNumberId: pn,
    waId: '1',
    clientMessageId: 'x2',
    wamid: `wamid.x2-${pn}`,
    status: 'delivered',
    timestamp: Date.now(),
  });
  await store.queue.accepted(pn, [
    { id: h1!.id, wamid: `wamid.x1-${pn}`, at: Date.now() },
    { id: h2!.id, wamid: `wamid.x2-${pn}`, at: Date.now() },
  ]);
  const messages = await statusOf(pn, '1');
  expect(messages.x1).toMatchObject({ status: 'accepted', wamid: `wamid.x1-${pn}` });
  expect(messages.x2).toMatchObject({ status: 'delivered', wamid: `wamid.x2-${pn}` });
});

test('the sender sleeps only when nothing is runnable, and learns when a delayed send is due', async () => {
  const pn = number();
  expect(await store.queue.sleep(pn, Date.now())).toEqual({ runnable: false });
  // Asleep: the next send wakes it.
  expect((await store.queue.add(send(pn, '1', 's1'))).wake).toBe(true);
  expect(await store.queue.sleep(pn, Date.now())).toEqual({ runnable: true });
  const [head] = await store.queue.peek(pn, 1);
  await store.queue.claim(pn, head!.id, Date.now());
  const due = Date.now() + 30_000;
  await store.queue.requeue(pn, head!.id, { at: Date.now(), notBefore: due, attempts: 1 });
  expect(await store.queue.sleep(pn, Date.now())).toEqual({ runnable: false, wakeAt: due });
});

test('two numbers may use the same client message id: a claim, an answer and a requeue touch only their own number', async () => {
  const [a, b] = [number(), number()];
  await store.queue.add(send(a, '1', 'same-id'));
  await store.queue.add(send(b, '1', 'same-id'));
  const claimed = await store.queue.claim(a, 'client:same-id', Date.now());
  expect(claimed).toBeDefined();
  expect((await statusOf(b, '1'))['same-id'].status).toBe('queued');
  await store.queue.accepted(a, [{ id: 'client:same-id', wamid: `wamid.same-${a}`, at: Date.now() }]);
  expect((await statusOf(a, '1'))['same-id']).toMatchObject({ status: 'accepted', wamid: `wamid.same-${a}` });
  expect((await statusOf(b, '1'))['same-id']).toMatchObject({ status: 'queued' });
  expect((await statusOf(b, '1'))['same-id'].wamid).toBeUndefined();
});

test("the registry keeps a number's WABA and display number; a write without them keeps the ones it knows", async () => {
  const pn = number();
  await store.numbers.record({
    phoneNumberId: pn,
    onboardingWorkflowId: 'onboarding:+15550001111',
    wabaId: 'waba-7',
    displayPhoneNumber: '+15550001111',
    canSend: true,
    updatedAt: 1,
  });
  expect(await store.numbers.get(pn)).toMatchObject({ wabaId: 'waba-7', displayPhoneNumber: '+15550001111' });
  // An entry mirrored by a run from before the registry kept them (no WABA, no display number).
  await store.numbers.record({
    phoneNumberId: pn,
    onboardingWorkflowId: 'onboarding:+15550001111',
    canSend: false,
    updatedAt: 2,
  });
  expect(await store.numbers.get(pn)).toMatchObject({
    canSend: false,
    wabaId: 'waba-7',
    displayPhoneNumber: '+15550001111',
  });
  const unknown = number();
  await store.numbers.record({ phoneNumberId: unknown, onboardingWorkflowId: 'onboarding:+1', canSend: true, updatedAt: 1 });
  const entry = await store.numbers.get(unknown);
  expect(entry).toBeDefined();
  expect(entry).not.toHaveProperty('wabaId');
});
