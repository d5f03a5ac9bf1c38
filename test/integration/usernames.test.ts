/**
 * Customers who adopt a WhatsApp username (issue 19, finding 1): Meta names them by business-scoped
 * user id (BSUID) and leaves the phone fields empty until they share their number. They get a
 * conversation of their own, replies go out by `recipient`, and sharing the phone later keeps the
 * one conversation. Real Temporal, real HTTP, signed webhooks, the Graph simulator.
 */
import { signWebhook } from '../../api/webhooks/signature';
import { startHarness, type Harness } from '../helpers/harness';
import { onboardToActive } from '../helpers/onboard';
import { eventually } from '../helpers/wait';

let h: Harness;
const phone = '+15550729101';
let phoneNumberId: string;
let wabaId: string;

beforeAll(async () => {
  h = await startHarness();
  ({ phoneNumberId, wabaId } = await onboardToActive(h, phone));
});

afterAll(async () => {
  await h?.stop();
});

const newUser = async (username: string) => {
  const created = await h.sim('POST', `/numbers/${phone}/users`, { username });
  expect(created.status).toBe(201);
  return created.body.userId as string;
};
const writes = (customer: string, text: string) =>
  h.sim('POST', `/numbers/${phone}/customers/${customer}/messages`, { text, name: 'Ana' });
const conversation = (customer: string) => h.api('GET', `/numbers/${phoneNumberId}/conversations/${customer}`);
const messages = async (customer: string) =>
  (await h.api('GET', `/numbers/${phoneNumberId}/conversations/${customer}/messages?order=asc&limit=200`)).body.messages as any[];
const send = (customer: string, clientMessageId: string, message: Record<string, unknown>) =>
  h.api('POST', `/numbers/${phoneNumberId}/conversations/${customer}/messages`, { clientMessageId, message });
const text = (body: string) => ({ type: 'text', text: { body } });
const sentAtMeta = async (clientMessageId: string) =>
  (await h.sim('GET', `/numbers/${phone}/sent`)).body.sent.find((s: any) => s.bizOpaqueCallbackData === clientMessageId);

async function postSigned(body: unknown) {
  const raw = JSON.stringify(body);
  const response = await fetch(`${h.apiUrl}/webhooks/meta`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhook(raw, h.config.META_APP_SECRET) },
    body: raw,
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { received: number; queued: number; unrouted: string[] };
}

test('a username-only customer writes, gets a reply by `recipient`, later shares the phone and stays one conversation', async () => {
  const userId = await newUser('ana.cooks');
  expect(userId).toMatch(/^US\.\d+$/);

  // Meta: `from: ""`, `from_user_id`, contacts with user_id and username, no wa_id.
  expect((await writes(userId, 'Hi, is the bakery open?')).status).toBe(201);
  const first = await eventually(
    () => conversation(userId),
    (r) => r.status === 200 && r.body.counts.customer === 1,
  );
  expect(first.body).toMatchObject({
    waId: userId,
    customer: { userId, username: 'ana.cooks' },
    customerServiceWindow: { status: 'open' },
  });
  expect(first.body.customer.waId).toBeUndefined();

  // The reply goes by `recipient` (the BSUID), its statuses (recipient_id "") come back to it.
  expect((await send(userId, 'reply-1', text('Yes, until 6pm!'))).status).toBe(202);
  const [sent] = [
    await eventually(
      () => sentAtMeta('reply-1'),
      (s) => s !== undefined,
    ),
  ];
  expect(sent).toMatchObject({ to: userId, by: 'recipient' });
  await eventually(
    () => messages(userId),
    (m) => m.find((x) => x.clientMessageId === 'reply-1')?.status === 'delivered',
  );

  // The customer shares their phone number: Meta now sends both, and it is the same conversation.
  const shared = await h.sim('PATCH', `/numbers/${phone}/users/${userId}`, { waId: '16505559001', phoneShared: true });
  expect(shared.status).toBe(200);
  expect((await writes('16505559001', 'Great, I will come by')).status).toBe(201);
  const linked = await eventually(
    () => conversation('16505559001'),
    (r) => r.status === 200 && r.body.counts.customer === 2,
  );
  expect(linked.body).toMatchObject({
    waId: userId,
    customer: { waId: '16505559001', userId, username: 'ana.cooks' },
  });

  // With the phone known, the next reply goes `to` the phone number.
  expect((await send('16505559001', 'reply-2', text('See you!'))).status).toBe(202);
  expect(
    await eventually(
      () => sentAtMeta('reply-2'),
      (s) => s !== undefined,
    ),
  ).toMatchObject({
    to: '16505559001',
    by: 'to',
  });
  const all = await eventually(
    () => messages(userId),
    (m) => m.length === 4 && m.every((x) => x.waId === userId),
  );
  // Meta dates a customer's message to the second, so the second one and reply-1 may share a
  // second and list either way round; the first and the last cannot.
  expect(all.map((m) => m.source).sort()).toEqual(['customer', 'customer', 'platform', 'platform']);
  expect(all[0]).toMatchObject({ source: 'customer', content: { text: { body: 'Hi, is the bakery open?' } } });
  expect(all[3]).toMatchObject({ source: 'platform', clientMessageId: 'reply-2' });
  expect(await messages('16505559001')).toHaveLength(4);

  const listed = (await h.api('GET', `/numbers/${phoneNumberId}/conversations?limit=200`)).body.conversations as any[];
  expect(listed.filter((c) => c.customer.userId === userId)).toEqual([
    expect.objectContaining({
      waId: userId,
      inbound: 2,
      outbound: 2,
      customer: { waId: '16505559001', userId, username: 'ana.cooks' },
    }),
  ]);
});

test('a customer whose BSUID changes (Meta’s `system` notice) stays one conversation; the next reply goes to the new BSUID', async () => {
  const oldId = await newUser('cy.bakes');
  expect((await writes(oldId, 'Hello')).status).toBe(201);
  await eventually(
    () => conversation(oldId),
    (r) => r.status === 200 && r.body.counts.customer === 1,
  );
  const change = await h.sim('POST', `/numbers/${phone}/customers/${oldId}/identity-change`, { name: 'Cy' });
  expect(change.status).toBe(201);
  const newId = change.body.user.userId as string;
  expect(change.body.system).toMatchObject({ type: 'user_changed_user_id', user_id: newId });
  // The notice is a message of its own in the thread (type `system`, no contacts[]).
  const noticed = await eventually(
    () => messages(oldId),
    (m) => m.some((x) => x.type === 'system'),
  );
  expect(noticed.find((x) => x.type === 'system').content.system.user_id).toBe(newId);

  expect((await writes(newId, 'Same Cy, new id')).status).toBe(201);
  const joined = await eventually(
    () => conversation(newId),
    (r) => r.status === 200 && r.body.counts.customer === 3,
  );
  expect(joined.body).toMatchObject({ waId: oldId, customer: { userId: newId, username: 'cy.bakes' } });
  expect((await send(oldId, 'reply-cy', text('Welcome back'))).status).toBe(202);
  expect(
    await eventually(
      () => sentAtMeta('reply-cy'),
      (s) => s !== undefined,
    ),
  ).toMatchObject({ to: newId, by: 'recipient' });
});

test('a customer who changes phone number (`user_changed_number`) stays one conversation; replies go to the new number', async () => {
  const before = '16505559201';
  const after = '16505559202';
  expect((await writes(before, 'Hi from my old phone')).status).toBe(201);
  await eventually(
    () => conversation(before),
    (r) => r.status === 200 && r.body.counts.customer === 1,
  );
  expect((await h.sim('POST', `/numbers/${phone}/customers/${before}/identity-change`, { waId: after, name: 'Di' })).status).toBe(
    201,
  );
  await eventually(
    () => messages(before),
    (m) => m.some((x) => x.type === 'system'),
  );
  expect((await writes(after, 'New phone, same Di')).status).toBe(201);
  const joined = await eventually(
    () => conversation(after),
    (r) => r.status === 200 && r.body.counts.customer === 3,
  );
  expect(joined.body).toMatchObject({ waId: before, customer: { waId: after } });
  expect((await send(after, 'reply-di', text('Got it'))).status).toBe(202);
  expect(
    await eventually(
      () => sentAtMeta('reply-di'),
      (s) => s !== undefined,
    ),
  ).toMatchObject({ to: after, by: 'to' });
});

test('a status with an empty recipient_id is routed by recipient_user_id', async () => {
  const userId = await newUser('bo.reads');
  expect((await writes(userId, 'Hello')).status).toBe(201);
  await eventually(
    () => conversation(userId),
    (r) => r.status === 200 && r.body.counts.customer === 1,
  );
  expect((await send(userId, 'status-by-user-id', text('Hi Bo'))).status).toBe(202);
  const sent = await eventually(
    () => messages(userId),
    (m) => m.find((x) => x.clientMessageId === 'status-by-user-id')?.status === 'delivered',
  );
  const wamid = sent.find((x) => x.clientMessageId === 'status-by-user-id').wamid as string;

  const answer = await postSigned({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: wabaId,
        time: Math.floor(Date.now() / 1000),
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: phone.slice(1), phone_number_id: phoneNumberId },
              contacts: [{ user_id: userId, profile: { username: 'bo.reads' } }],
              statuses: [
                {
                  id: wamid,
                  status: 'read',
                  timestamp: String(Math.floor(Date.now() / 1000)),
                  recipient_id: '',
                  recipient_user_id: userId,
                },
              ],
            },
          },
        ],
      },
    ],
  });
  expect(answer).toMatchObject({ queued: 1, unrouted: [] });
  await eventually(
    () => messages(userId),
    (m) => m.find((x) => x.wamid === wamid)?.status === 'read',
  );
});

test('an authentication template to a username-only customer is refused 131062 with its remedy; once the phone is shared it goes out', async () => {
  const put = await h.sim('PUT', `/numbers/${phone}/templates/login_code`, { language: 'en_US', category: 'AUTHENTICATION' });
  expect(put.status).toBeLessThan(300);
  const userId = await newUser('cy.secure');
  expect((await writes(userId, 'I need a code')).status).toBe(201);
  await eventually(
    () => conversation(userId),
    (r) => r.status === 200 && r.body.counts.customer === 1,
  );
  const login = { type: 'template', template: { name: 'login_code', language: 'en_US' } };
  expect((await send(userId, 'otp-1', login)).status).toBe(202);
  const refused = await eventually(
    () => messages(userId),
    (m) => m.find((x) => x.clientMessageId === 'otp-1')?.status === 'failed',
  );
  expect(refused.find((x) => x.clientMessageId === 'otp-1')).toMatchObject({
    errorCode: 131062,
    reason: 'bsuid_recipient_not_supported',
    remedy: expect.stringMatching(/phone number/),
  });
  expect((await h.sim('GET', `/numbers/${phone}/sent`)).body.rejected).toMatchObject({ 131062: 1 });

  // The customer shares the phone (Meta links them in the next message): the template goes `to` it.
  await h.sim('PATCH', `/numbers/${phone}/users/${userId}`, { waId: '16505559002', phoneShared: true });
  expect((await writes('16505559002', 'Here is my number')).status).toBe(201);
  await eventually(
    () => conversation(userId),
    (r) => r.status === 200 && r.body.customer.waId === '16505559002',
  );
  expect((await send(userId, 'otp-2', login)).status).toBe(202);
  expect(
    await eventually(
      () => sentAtMeta('otp-2'),
      (s) => s !== undefined,
    ),
  ).toMatchObject({ to: '16505559002', by: 'to' });
});
