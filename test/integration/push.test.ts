/**
 * Pushes to the backend (issue 19, finding 5): with BACKEND_PUSH_EVENTS set, inbound messages,
 * echoes typed on the phone, status changes and window changes reach the backend as signed
 * callbacks, in order per conversation, each with one delivery id however often it is retried, so a
 * backend builds its inbox without polling. Real Temporal, real HTTP, signed webhooks.
 */
import { conversationPushSchema } from '../../api/conversations/schemas';
import type { ReceivedCallback } from '../helpers/callback-receiver';
import { startHarness, type Harness } from '../helpers/harness';
import { onboardToActive } from '../helpers/onboard';
import { eventually } from '../helpers/wait';

let h: Harness;
const phone = '+15550739001';
let phoneNumberId: string;

beforeAll(async () => {
  h = await startHarness({ env: { BACKEND_PUSH_EVENTS: 'message.received,message.echo,message.status,window.changed' } });
  ({ phoneNumberId } = await onboardToActive(h, phone));
});

afterAll(async () => {
  await h?.stop();
});

const pushesOf = (waId: string) =>
  h.callbacks.received.filter((c) => (c as ReceivedCallback & { waId?: string }).waId === waId && c.kind !== 'onboarding');

test('inbound messages arrive in order, each once, across a backend that refuses twice first', async () => {
  const waId = '16505550931';
  // The backend refuses the first message's push twice: the second and third wait behind it.
  h.callbacks.script(
    (c) => c.kind === 'message.received' && (c as { waId?: string }).waId === waId,
    [{ status: 503 }, { status: 500 }],
  );
  for (const text of ['one', 'two', 'three']) {
    await h.sim('POST', `/numbers/${phone}/customers/${waId}/messages`, { text });
  }
  const received = await eventually(
    () => pushesOf(waId).filter((c) => c.kind === 'message.received'),
    (r) => r.length === 3,
  );
  expect(received.map((c) => (c.message as { content: { text: { body: string } } }).content.text.body)).toEqual([
    'one',
    'two',
    'three',
  ]);
  expect(received[0]).toMatchObject({
    phoneNumberId,
    waId,
    conversationId: `conversation:${phoneNumberId}:${waId}`,
    occurredAt: expect.any(Number),
    message: expect.objectContaining({ direction: 'inbound', source: 'customer' }),
  });
  // The refused push was attempted three times under one delivery id, and accepted once.
  const first = received[0]!.deliveryId;
  const attempts = h.callbacks.attempts.filter((a) => a.deliveryId === first);
  expect(attempts.map((a) => a.answer)).toEqual([503, 500, 204]);
  expect(new Set(attempts.map((a) => a.body)).size).toBe(1);
  // Nothing of this conversation was accepted before the first message's push.
  const acceptedOrder = h.callbacks.attempts
    .filter((a) => a.callback && (a.callback as { waId?: string }).waId === waId && a.answer === 204)
    .map((a) => a.deliveryId);
  expect(acceptedOrder[0]).toBe(first);

  // Each customer message opened or extended the window, with its end.
  // (each message's window push comes after its message's push, in the conversation's order).
  const windows = await eventually(
    () => pushesOf(waId).filter((c) => c.kind === 'window.changed'),
    (w) => w.length >= 3,
  );
  expect(windows).toHaveLength(3);
  expect(windows.at(-1)).toMatchObject({ customerServiceWindow: { status: 'open', expiresAt: expect.any(Number) } });
});

test('an echo typed on the phone and the statuses of a platform send are pushed', async () => {
  const waId = '16505550932';
  await h.sim('POST', `/numbers/${phone}/customers/${waId}/messages`, { text: 'hello' });
  await h.sim('POST', `/numbers/${phone}/app/messages`, { to: waId, text: 'typed on the phone' });
  const echo = await eventually(
    () => pushesOf(waId).find((c) => c.kind === 'message.echo'),
    (c) => c !== undefined,
  );
  expect(echo!.message).toMatchObject({ source: 'app_echo', direction: 'outbound' });

  const sent = await h.api('POST', `/numbers/${phoneNumberId}/conversations/${waId}/messages`, {
    clientMessageId: 'push-1',
    message: { type: 'text', text: { body: 'from the platform' } },
  });
  expect(sent.status).toBe(202);
  const statuses = await eventually(
    () => pushesOf(waId).filter((c) => c.kind === 'message.status'),
    (s) => s.some((c) => (c.status as { status: string }).status === 'delivered'),
  );
  expect(statuses.map((c) => (c.status as { status: string }).status)).toEqual(expect.arrayContaining(['sent', 'delivered']));
  // The platform's own send is not pushed back as a message: the backend made it.
  expect(pushesOf(waId).filter((c) => c.kind === 'message.received')).toHaveLength(1);
});

test('a webhook Meta delivers three times is pushed once', async () => {
  const waId = '16505550933';
  const { wabaId } = (await h.sim('GET', `/numbers/${phone}`)).body as { wabaId: string };
  const message = (id: string, body: string) => ({
    wabaId,
    field: 'messages',
    value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: phone.slice(1), phone_number_id: phoneNumberId },
      contacts: [{ wa_id: waId, profile: { name: 'Dup' } }],
      messages: [{ id, from: waId, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body } }],
    },
  });
  for (let i = 0; i < 3; i++) await h.sim('POST', '/webhooks', message('wamid.PUSHDUP1', 'dup'));
  // Pushes keep the conversation's order: once the next message's push is in, every earlier one is.
  await h.sim('POST', '/webhooks', message('wamid.PUSHDUP2', 'after'));
  const received = await eventually(
    () => pushesOf(waId).filter((c) => c.kind === 'message.received'),
    (r) => r.some((c) => (c.message as { id: string }).id === 'wamid.PUSHDUP2'),
  );
  expect(received.map((c) => (c.message as { id: string }).id)).toEqual(['wamid.PUSHDUP1', 'wamid.PUSHDUP2']);
});

test('every push matches the documented body (OpenAPI webhooks: ConversationPush)', () => {
  const pushes = h.callbacks.received.filter((c) => c.kind.includes('.'));
  expect(new Set(pushes.map((c) => c.kind))).toEqual(
    new Set(['message.received', 'message.echo', 'message.status', 'window.changed']),
  );
  for (const push of pushes) expect(conversationPushSchema.safeParse(push).error).toBeUndefined();
});
