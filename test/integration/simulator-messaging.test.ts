/**
 * The simulator's messaging over real HTTP: Graph sends with Meta's checks (payment, 20 per second,
 * pair rate, customer service window), and signed `messages`, `statuses` and `smb_message_echoes`
 * webhooks received by a receiver that verifies `X-Hub-Signature-256`, redelivered when it was down.
 * The simulator's clock is frozen: time moves only by `/_sim/clock/advance`, so every rate and
 * window is asserted to the millisecond without depending on how fast this machine is.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import express from 'express';
import { createSimulator } from '../../simulator/app';
import { freePort } from '../helpers/ports';
import { eventually } from '../helpers/wait';

const appSecret = 'simulator-messaging-secret';
const HOUR = 60 * 60_000;

interface Change {
  wabaId: string;
  time: number;
  field: string;
  value: any;
}

/** Meta's webhook receiver side: verifies the signature over the raw bytes, then records each change. */
async function startReceiver() {
  const changes: Change[] = [];
  let badSignatures = 0;
  let answer = 200;
  const app = express();
  app.post('/webhooks', express.raw({ type: '*/*' }), (req, res) => {
    const raw = req.body as Buffer;
    const expected = Buffer.from(`sha256=${createHmac('sha256', appSecret).update(raw).digest('hex')}`);
    const given = Buffer.from(req.get('x-hub-signature-256') ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      badSignatures++;
      res.status(401).end();
      return;
    }
    if (answer !== 200) {
      res.status(answer).end();
      return;
    }
    const body = JSON.parse(raw.toString());
    expect(body.object).toBe('whatsapp_business_account');
    for (const entry of body.entry)
      for (const c of entry.changes) changes.push({ wabaId: entry.id, time: entry.time, field: c.field, value: c.value });
    res.status(200).end();
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/webhooks`,
    changes,
    get badSignatures() {
      return badSignatures;
    },
    answerWith(status: number) {
      answer = status;
    },
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

let receiver: Awaited<ReturnType<typeof startReceiver>>;
const simulator = createSimulator({ appId: '42', appSecret, webhookRetryIntervalMs: 0 });
let sim: Awaited<ReturnType<typeof simulator.listen>>;

beforeAll(async () => {
  receiver = await startReceiver();
  sim = await simulator.listen(0);
  await control('PUT', '/webhook-target', { url: receiver.url });
  await control('PUT', '/clock', { frozen: true });
});

afterAll(async () => {
  await sim?.close();
  await receiver?.close();
});

afterEach(() => expect(receiver.badSignatures).toBe(0));

async function http(url: string, method: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as any };
}
const control = async (method: string, path: string, body?: unknown) => http(`${sim.url}/_sim${path}`, method, body);
const now = async (): Promise<number> => (await control('GET', '/clock')).body.now;
const advance = (ms: number) => control('POST', '/clock/advance', { ms });

let seq = 0;
/** A signed-up number with a payment method and a Graph token. */
async function business({ paymentMethod = true } = {}) {
  const phoneNumber = `+1555030${String(++seq).padStart(4, '0')}`;
  const { body: number } = await control('POST', '/numbers', { phoneNumber, paymentMethod });
  // Meta's order: the popup opens with a QR, the phone scans it, and only then comes FINISH with the code.
  await control('POST', '/signup', { phoneNumber });
  const { body: signup } = await control('POST', `/linking/${phoneNumber}/scan`);
  const { body: grant } = await http(
    `${sim.url}/v24.0/oauth/access_token?client_id=42&client_secret=${appSecret}&code=${signup.code}`,
    'GET',
  );
  const send = (message: Record<string, unknown>) =>
    http(
      `${sim.url}/v24.0/${number.phoneNumberId}/messages`,
      'POST',
      { messaging_product: 'whatsapp', recipient_type: 'individual', ...message },
      { authorization: `Bearer ${grant.access_token}` },
    );
  return {
    phoneNumber,
    number,
    token: grant.access_token as string,
    send,
    text: (to: string, body = 'Hello', extra: Record<string, unknown> = {}) =>
      send({ to, type: 'text', text: { body }, ...extra }),
    template: (to: string, extra: Record<string, unknown> = {}) =>
      send({ to, type: 'template', template: { name: 'order_update', language: { code: 'en_US' } }, ...extra }),
    customerWrites: async (waId: string, body: Record<string, unknown> = {}) =>
      (await control('POST', `/numbers/${phoneNumber}/customers/${waId}/messages`, body)).body.wamid as string,
    window: async (waId: string) => (await control('GET', `/numbers/${phoneNumber}/customers/${waId}/window`)).body,
    sent: async () => (await control('GET', `/numbers/${phoneNumber}/sent`)).body,
  };
}

/** The change carrying `wamid` as a message, echo or status (with that `status`), once it arrived. */
function arrived(wamid: string, status?: string): Promise<Change> {
  const find = () =>
    receiver.changes.find(
      (c) =>
        c.value.messages?.[0]?.id === wamid ||
        c.value.message_echoes?.[0]?.id === wamid ||
        (c.value.statuses?.[0]?.id === wamid && c.value.statuses[0].status === status),
    );
  return eventually(find, (c) => c !== undefined, { timeoutMs: 20_000 }) as Promise<Change>;
}
const statusesOf = (wamid: string) =>
  receiver.changes.flatMap((c) => (c.value.statuses ?? []).filter((s: any) => s.id === wamid));
const metaError = (code: number) => ({
  status: 400,
  body: { error: expect.objectContaining({ code, type: 'OAuthException', fbtrace_id: expect.any(String) }) },
});

test('a customer message is a signed `messages` webhook with contacts and metadata, and opens a 24 h window', async () => {
  const b = await business();
  expect(await b.window('16505550001')).toEqual({ open: false, expiresAt: null });

  const referral = { source_type: 'ad', source_id: '120000000000', ctwa_clid: 'ARAkLkA8rmlFeiCktEJQ' };
  const at = await now();
  const wamid = await b.customerWrites('16505550001', { text: 'Hi', name: 'Sheena Nelson', referral });
  const change = await arrived(wamid);
  expect(change).toEqual({
    wabaId: b.number.wabaId,
    time: Math.floor(at / 1000),
    field: 'messages',
    value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: b.phoneNumber.slice(1), phone_number_id: b.number.phoneNumberId },
      contacts: [{ profile: { name: 'Sheena Nelson' }, wa_id: '16505550001' }],
      messages: [
        {
          from: '16505550001',
          id: wamid,
          timestamp: String(Math.floor(at / 1000)),
          type: 'text',
          text: { body: 'Hi' },
          referral,
        },
      ],
    },
  });
  expect(await b.window('16505550001')).toEqual({ open: true, expiresAt: at + 24 * HOUR });

  // Each customer message resets the window to 24 h.
  await advance(23 * HOUR);
  const unsupported = await b.customerWrites('16505550001', { unsupported: { code: 131060 } });
  expect((await arrived(unsupported)).value.messages[0]).toMatchObject({
    type: 'unsupported',
    errors: [{ code: 131060, title: expect.any(String) }],
  });
  expect(await b.window('16505550001')).toEqual({ open: true, expiresAt: at + 47 * HOUR });
});

test('an echo from the phone app is a signed `smb_message_echoes` webhook with `to` as typed, and never opens or extends a window', async () => {
  const b = await business();
  const at = await now();
  const { status, body } = await control('POST', `/numbers/${b.phoneNumber}/app/messages`, {
    to: '+16505550002',
    text: 'On my way',
  });
  expect(status).toBe(201);
  const change = await arrived(body.wamid);
  expect(change).toMatchObject({ wabaId: b.number.wabaId, field: 'smb_message_echoes' });
  expect(change.value).toEqual({
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: b.phoneNumber.slice(1), phone_number_id: b.number.phoneNumberId },
    message_echoes: [
      {
        from: b.phoneNumber.slice(1),
        to: '+16505550002',
        id: body.wamid,
        timestamp: String(Math.floor(at / 1000)),
        type: 'text',
        text: { body: 'On my way' },
      },
    ],
  });
  expect(await b.window('16505550002')).toEqual({ open: false, expiresAt: null });
  expect(await b.text('16505550002')).toMatchObject(metaError(131047));

  // An echo inside an open window does not extend it.
  await b.customerWrites('16505550003');
  await advance(23 * HOUR);
  await control('POST', `/numbers/${b.phoneNumber}/app/messages`, { to: '16505550003', text: 'Still there?' });
  await advance(HOUR);
  expect(await b.window('16505550003')).toEqual({ open: false, expiresAt: at + 24 * HOUR });
});

test('inside the window a reply is free and gets `sent` then `delivered`; outside it free-form is 131047 and a template is billable', async () => {
  const b = await business();
  await b.customerWrites('16505550004');
  const reply = await b.text('16505550004', 'Your order is ready', { biz_opaque_callback_data: 'client-1' });
  expect(reply).toEqual({
    status: 200,
    body: {
      messaging_product: 'whatsapp',
      contacts: [{ input: '16505550004', wa_id: '16505550004' }],
      messages: [{ id: expect.stringMatching(/^wamid\./) }],
    },
  });
  const wamid = reply.body.messages[0].id;
  const delivered = await arrived(wamid, 'delivered');
  expect(delivered.value.metadata).toEqual({
    display_phone_number: b.phoneNumber.slice(1),
    phone_number_id: b.number.phoneNumberId,
  });
  const pricing = { billable: false, pricing_model: 'PMP', type: 'free_customer_service', category: 'service' };
  const status = {
    id: wamid,
    timestamp: expect.stringMatching(/^\d+$/),
    recipient_id: '16505550004',
    biz_opaque_callback_data: 'client-1',
    pricing,
  };
  expect(statusesOf(wamid)).toEqual([
    { ...status, status: 'sent' },
    { ...status, status: 'delivered' },
  ]);

  await advance(24 * HOUR);
  expect(await b.window('16505550004')).toMatchObject({ open: false });
  const late = await b.text('16505550004', 'Anything else?');
  expect(late).toMatchObject(metaError(131047));
  expect(late.body.error.message).toBe('Re-engagement message');

  const template = await b.template('16505550004');
  expect(template.status).toBe(200);
  expect(template.body.messages[0]).toEqual({ id: expect.any(String), message_status: 'accepted' });
  const sent = await arrived(template.body.messages[0].id, 'sent');
  expect(sent.value.statuses[0]).not.toHaveProperty('biz_opaque_callback_data');
  expect(sent.value.statuses[0].pricing).toEqual({ billable: true, pricing_model: 'PMP', type: 'regular', category: 'utility' });
  expect((await b.sent()).rejected).toEqual({ 131047: 1 });
});

test('read and failed statuses are sent on demand for messages sent through the Graph API', async () => {
  const b = await business();
  const { body } = await b.template('16505550005', { biz_opaque_callback_data: 'client-2' });
  const wamid = body.messages[0].id;
  await arrived(wamid, 'delivered');

  expect(await control('POST', `/messages/${wamid}/status`, { status: 'read' })).toEqual({
    status: 202,
    body: { wamid, status: 'read' },
  });
  expect((await arrived(wamid, 'read')).value.statuses[0]).toEqual({
    id: wamid,
    status: 'read',
    timestamp: expect.any(String),
    recipient_id: '16505550005',
    biz_opaque_callback_data: 'client-2',
  });

  await control('POST', `/messages/${wamid}/status`, { status: 'failed', errorCode: 131042 });
  expect((await arrived(wamid, 'failed')).value.statuses[0]).toMatchObject({
    recipient_id: '16505550005',
    errors: [{ code: 131042, title: 'Business eligibility payment issue' }],
  });

  const echo = await control('POST', `/numbers/${b.phoneNumber}/app/messages`, { to: '16505550005', text: 'hi' });
  expect(await control('POST', `/messages/${echo.body.wamid}/status`, { status: 'read' })).toMatchObject({
    status: 404,
    body: { error: { code: 'not_found' } },
  });
  expect(await control('POST', `/messages/${wamid}/status`, { status: 'played' })).toMatchObject({
    status: 400,
    body: { error: { code: 'invalid_request', message: expect.stringContaining('status') } },
  });
  expect(await control('POST', `/messages/${wamid}/status`, { status: 'read', errorCode: 1 })).toMatchObject({ status: 400 });
});

test('a reply to a Click-to-WhatsApp customer starts a free entry point; after the window only templates, free until 72 h', async () => {
  const b = await business();
  await b.customerWrites('16505550006', { referral: { source_type: 'ad', source_id: '1', ctwa_clid: 'clid' } });
  const reply = await b.text('16505550006');
  expect((await arrived(reply.body.messages[0].id, 'sent')).value.statuses[0].pricing).toMatchObject({
    billable: false,
    type: 'free_entry_point',
    category: 'service',
  });

  await advance(25 * HOUR);
  expect(await b.text('16505550006')).toMatchObject(metaError(131047));
  const inFep = await b.template('16505550006');
  expect((await arrived(inFep.body.messages[0].id, 'sent')).value.statuses[0].pricing).toMatchObject({
    billable: false,
    type: 'free_entry_point',
    category: 'utility',
  });

  await advance(48 * HOUR);
  const after = await b.template('16505550006');
  expect((await arrived(after.body.messages[0].id, 'sent')).value.statuses[0].pricing).toMatchObject({
    billable: true,
    type: 'regular',
  });
});

test('more than 20 accepted in any one second of simulator time is 130429; the `sent` log never has more', async () => {
  const b = await business();
  const to = (i: number) => `1650556${String(i).padStart(4, '0')}`;
  const burst = async (n: number, from: number) => Promise.all(Array.from({ length: n }, (_, i) => b.template(to(from + i))));
  const ids = (answers: { status: number; body: any }[]) =>
    answers.filter((a) => a.status === 200).map((a) => a.body.messages[0].id as string);
  const t0 = await now();

  const first = await burst(21, 0);
  expect(first.filter((a) => a.status === 200)).toHaveLength(20);
  expect(first.filter((a) => a.status !== 200)).toEqual([metaError(130429)]);
  await advance(999);
  expect(await b.template(to(100))).toMatchObject(metaError(130429));
  await advance(1);
  const atOneSecond = await b.template(to(101));
  expect(atOneSecond.status).toBe(200);

  // Sliding, not per calendar second: at t0 + 1500 the one sent at t0 + 1000 still counts.
  await advance(500);
  const second = await burst(20, 200);
  expect(second.filter((a) => a.status === 200)).toHaveLength(19);
  await advance(500);
  expect((await b.template(to(300))).status).toBe(200);
  expect(await b.template(to(301))).toMatchObject(metaError(130429));

  const { sent: messages, rejected } = await b.sent();
  expect(rejected).toEqual({ 130429: 4 });
  expect(messages).toHaveLength(41);
  const times = messages.map((m: { acceptedAt: number }) => m.acceptedAt);
  expect(times[0]).toBe(t0);
  for (let i = 0; i + 20 < times.length; i++) expect(times[i + 20] - times[i]).toBeGreaterThanOrEqual(1000);
  const accepted = [...ids(first), ...ids([atOneSecond]), ...ids(second)];
  expect(messages.map((m: { wamid: string }) => m.wamid)).toEqual(expect.arrayContaining(accepted));
  expect(new Set(messages.map((m: { wamid: string }) => m.wamid)).size).toBe(41);
  expect(messages[0]).toEqual({
    wamid: expect.any(String),
    to: expect.any(String),
    by: 'to',
    type: 'template',
    bizOpaqueCallbackData: null,
    acceptedAt: t0,
  });
});

test('too many to one customer is 131056 when a pair rate is set', async () => {
  const b = await business();
  expect(await control('PUT', '/pair-rate', { messages: 3, perMs: 6_000 })).toEqual({
    status: 200,
    body: { messages: 3, perMs: 6_000 },
  });
  try {
    for (let i = 0; i < 3; i++) expect((await b.template('16505550007')).status).toBe(200);
    expect(await b.template('+16505550007')).toMatchObject(metaError(131056));
    expect((await b.template('16505550008')).status).toBe(200);
    await advance(6_000);
    expect((await b.template('16505550007')).status).toBe(200);
    expect((await b.sent()).rejected).toEqual({ 131056: 1 });
    // Every request is logged as it arrived, on the simulator's clock, refused ones included.
    const { requests } = await b.sent();
    expect(requests.map((r: any) => [r.to, r.status, r.code])).toEqual([
      ['16505550007', 200, undefined],
      ['16505550007', 200, undefined],
      ['16505550007', 200, undefined],
      ['+16505550007', 400, 131056],
      ['16505550008', 200, undefined],
      ['16505550007', 200, undefined],
    ]);
    expect(requests[5].at - requests[0].at).toBe(6_000);
  } finally {
    await control('DELETE', '/pair-rate');
  }
  for (let i = 0; i < 5; i++) expect((await b.template('16505550007')).status).toBe(200);
});

test('without a payment method a send is 131042; a malformed body is 100', async () => {
  const unpaid = await business({ paymentMethod: false });
  expect(await unpaid.template('16505550009')).toMatchObject(metaError(131042));

  const b = await business();
  await b.customerWrites('16505550010');
  const malformed = [
    { messaging_product: undefined, to: '16505550010', type: 'text', text: { body: 'x' } },
    { to: undefined, type: 'text', text: { body: 'x' } },
    { to: 'not-a-number', type: 'text', text: { body: 'x' } },
    { to: '16505550010', type: 'hologram', hologram: {} },
    { to: '16505550010', type: 'text' },
    { to: '16505550010', type: 'text', text: { body: '' } },
    { to: '16505550010', type: 'template', template: { name: 'order_update' } },
    { to: '16505550010', type: 'image', image: {} },
  ];
  for (const body of malformed) {
    const answer = await b.send(body);
    expect(answer).toMatchObject(metaError(100));
    expect(answer.body.error.message).toMatch(/^\(#100\) /);
  }
  expect(await b.send({ to: '16505550010', text: { body: 'type defaults to text' } })).toMatchObject({ status: 200 });
  expect((await unpaid.sent()).rejected).toEqual({ 131042: 1 });
  expect((await b.sent()).rejected).toEqual({ 100: malformed.length });
});

test('no idempotency: the same request twice is two messages with two wamids, both echoing the callback data', async () => {
  const b = await business();
  await b.customerWrites('16505550011');
  const first = await b.text('16505550011', 'Same', { biz_opaque_callback_data: 'client-3' });
  const again = await b.text('16505550011', 'Same', { biz_opaque_callback_data: 'client-3' });
  const [a, c] = [first.body.messages[0].id, again.body.messages[0].id];
  expect(a).not.toBe(c);
  expect((await b.sent()).sent.map((m: any) => [m.wamid, m.bizOpaqueCallbackData])).toEqual([
    [a, 'client-3'],
    [c, 'client-3'],
  ]);
  for (const wamid of [a, c])
    expect((await arrived(wamid, 'delivered')).value.statuses[0].biz_opaque_callback_data).toBe('client-3');
});

test('webhooks the receiver did not take (non-200 or down) stay pending and are redelivered once each', async () => {
  const b = await business();
  const outboxFor = async (wamids: string[], field?: string) =>
    (await control('GET', `/webhooks${field ? `?field=${field}` : ''}`)).body.deliveries.filter((d: { body: string }) =>
      wamids.some((w) => d.body.includes(w)),
    );

  // The receiver answers 503: messages, echoes and statuses stay pending.
  receiver.answerWith(503);
  const inbound = await b.customerWrites('16505550012');
  const echo = (await control('POST', `/numbers/${b.phoneNumber}/app/messages`, { to: '16505550012', text: 'Hi' })).body.wamid;
  const reply = (await b.text('16505550012')).body.messages[0].id;
  const wamids = [inbound, echo, reply];
  // sent, then delivered once sent's attempt is over: four deliveries in all.
  await eventually(
    () => outboxFor(wamids),
    (ds) => ds.length === 4 && ds.every((d: any) => d.lastStatus === 503 && d.deliveredAt === undefined),
    { timeoutMs: 20_000 },
  );
  expect(await outboxFor(wamids, 'smb_message_echoes')).toEqual([
    expect.objectContaining({ field: 'smb_message_echoes', attempts: 1, lastStatus: 503 }),
  ]);
  expect((await control('GET', '/webhooks')).body).toMatchObject({
    lastStatus: 503,
    byField: { messages: { pending: expect.any(Number) } },
  });
  expect((await control('GET', '/webhooks')).body.byField.messages.pending).toBeGreaterThanOrEqual(3);

  // Down altogether: nothing listens on the target.
  await control('PUT', '/webhook-target', { url: `http://127.0.0.1:${await freePort()}/webhooks` });
  const whileDown = await b.customerWrites('16505550012', { text: 'Anyone?' });
  await control('POST', '/webhooks/redeliver');
  const [pending] = await outboxFor([whileDown]);
  expect(pending).toMatchObject({ attempts: 2, lastStatus: expect.any(String) });
  expect(pending).not.toHaveProperty('deliveredAt');
  expect(receiver.changes.filter((c) => JSON.stringify(c.value).includes(b.number.phoneNumberId))).toEqual([]);

  receiver.answerWith(200);
  await control('PUT', '/webhook-target', { url: receiver.url });
  expect((await control('POST', '/webhooks/redeliver')).body).toEqual({ delivered: expect.any(Number), pending: 0 });
  const mine = receiver.changes.filter((c) => c.value.metadata?.phone_number_id === b.number.phoneNumberId);
  const keys = mine.map(
    (c) =>
      `${c.field}:${c.value.messages?.[0]?.id ?? c.value.message_echoes?.[0]?.id ?? `${c.value.statuses[0].id}:${c.value.statuses[0].status}`}`,
  );
  expect(keys.sort()).toEqual(
    [
      `messages:${inbound}`,
      `messages:${whileDown}`,
      `smb_message_echoes:${echo}`,
      `messages:${reply}:sent`,
      `messages:${reply}:delivered`,
    ].sort(),
  );
});

test('with a retry interval, pending webhooks are redelivered on their own', async () => {
  const retrying = createSimulator({ appId: '43', appSecret, webhookUrl: receiver.url, webhookRetryIntervalMs: 50 });
  const server = await retrying.listen(0);
  try {
    receiver.answerWith(500);
    const phoneNumber = '+15550309999';
    await http(`${server.url}/_sim/numbers`, 'POST', { phoneNumber });
    const { body } = await http(`${server.url}/_sim/numbers/${phoneNumber}/customers/16505550013/messages`, 'POST', {
      text: 'Hello?',
    });
    const delivery = async () =>
      (await http(`${server.url}/_sim/webhooks?field=messages`, 'GET')).body.deliveries.find((d: any) =>
        d.body.includes(body.wamid),
      );
    await eventually(delivery, (d) => d?.attempts >= 2 && d.lastStatus === 500, { timeoutMs: 20_000 });
    receiver.answerWith(200);
    expect((await arrived(body.wamid)).value.messages[0].text).toEqual({ body: 'Hello?' });
  } finally {
    receiver.answerWith(200);
    await server.close();
  }
});

test('an authentication template sent by `recipient` (a business-scoped user id) is 131062; to the phone number it goes out', async () => {
  const b = await business();
  const put = await control('PUT', `/numbers/${b.phoneNumber}/templates/login_code`, {
    language: 'en_US',
    category: 'AUTHENTICATION',
  });
  expect(put.status).toBeLessThan(300);
  const login = { type: 'template', template: { name: 'login_code', language: { code: 'en_US' } } };
  const refused = await b.send({ recipient: 'US.13491208655302741918', ...login });
  expect(refused).toMatchObject(metaError(131062));
  expect(refused.body.error.message).toBe('BSUID recipients not supported');
  const sent = await b.send({ to: '16505550062', ...login });
  expect(sent.status).toBe(200);
});

test('history sync sends a media placeholder in a chunk and its media in a follow-up of plain `messages[]` under `history`', async () => {
  const b = await business();
  await control('PATCH', `/numbers/${b.phoneNumber}`, { historyMediaFirst: true });
  const requested = await http(
    `${sim.url}/v24.0/${b.number.phoneNumberId}/smb_app_data`,
    'POST',
    { messaging_product: 'whatsapp', sync_type: 'history' },
    { authorization: `Bearer ${b.token}` },
  );
  expect(requested.status).toBe(200);
  const ofNumber = () =>
    receiver.changes.filter((c) => c.field === 'history' && c.value.metadata.phone_number_id === b.number.phoneNumberId);
  const history = await eventually(ofNumber, (c) => c.length === 3, { timeoutMs: 20_000 });
  const placeholders = history
    .flatMap((c) => (c.value.history ?? []).flatMap((chunk: any) => chunk.threads.flatMap((t: any) => t.messages)))
    .filter((m: any) => m.type === 'media_placeholder');
  const followUps = history.filter((c) => c.value.messages !== undefined && c.value.history === undefined);
  expect(placeholders).toHaveLength(1);
  expect(followUps).toHaveLength(1);
  expect(followUps[0]!.value.messages).toEqual([
    expect.objectContaining({
      id: placeholders[0].id,
      type: 'image',
      image: expect.objectContaining({ id: expect.any(String) }),
    }),
  ]);
});
