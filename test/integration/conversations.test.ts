/**
 * Conversations on real Temporal (dev server), through the API and the Graph simulator over HTTP:
 * signed webhooks in, paced sends out, messages recorded once in the message store.
 */
import { Client, Connection } from '@temporalio/client';
import type { Server } from 'node:http';
import pino from 'pino';
import { createApp } from '../../api/app';
import { conversationWorkflowId } from '../../contracts/ids';
import { eventSignal, stateQuery, type MachineEvent } from '../../contracts/machine-api';
import { senderQuery } from '../../contracts/sender';
import { startHarness, type Harness } from '../helpers/harness';
import { onboardToActive } from '../helpers/onboard';
import { freePort } from '../helpers/ports';
import { burstOfSends, expectPaced } from '../helpers/send-burst';
import type { LoggedSendRequest } from '../helpers/send-rate';
import { postSignedWebhook, customerMessagesEnvelope } from '../helpers/webhooks';
import { eventually } from '../helpers/wait';

let h: Harness;
const phone = '+15550200001';
let phoneNumberId: string;
let wabaId: string;

beforeAll(async () => {
  h = await startHarness();
  ({ phoneNumberId, wabaId } = await onboardToActive(h, phone));
});

afterAll(async () => {
  await h?.stop();
});

let customers = 0;
/** A fresh customer wa_id for each test. */
const nextCustomer = () => `1650555${String(++customers).padStart(4, '0')}`;

const customerWrites = (waId: string, body: Record<string, unknown> = { text: 'Hi' }, number = phone) =>
  h.sim('POST', `/numbers/${number}/customers/${waId}/messages`, body);
const appSends = (to: string, text: string) => h.sim('POST', `/numbers/${phone}/app/messages`, { to, text });
const conversation = (waId: string, pnid = phoneNumberId) => h.api('GET', `/numbers/${pnid}/conversations/${waId}`);
const messages = async (waId: string, pnid = phoneNumberId) =>
  (await h.api('GET', `/numbers/${pnid}/conversations/${waId}/messages?order=asc&limit=200`)).body.messages as any[];
const send = (waId: string, clientMessageId: string, message: Record<string, unknown>, pnid = phoneNumberId) =>
  h.api('POST', `/numbers/${pnid}/conversations/${waId}/messages`, { clientMessageId, message });
const postSigned = (body: unknown) => postSignedWebhook(h, body);

/** A `messages` change with these customer messages, as Meta writes it. */
const customerMessages = (waId: string, messages: unknown[]) =>
  customerMessagesEnvelope({ wabaId, phoneNumberId, display: phone.slice(1) }, waId, messages);

const template = { type: 'template', template: { name: 'order_update', language: 'en_US', category: 'utility' } };
const text = (body: string) => ({ type: 'text', text: { body } });

test('an echo from the phone app is recorded as outgoing and opens nothing; the customer’s message then opens the window', async () => {
  const waId = nextCustomer();
  await appSends(`+${waId}`, 'On my way');
  const afterEcho = await eventually(
    () => conversation(waId),
    (r) => r.status === 200 && r.body.counts.echoes === 1,
  );
  expect(afterEcho.body.customerServiceWindow.status).toBe('closed');
  expect(afterEcho.body.inbox).toBe('closed');
  expect(afterEcho.body.allowedToSend).toBe('templates_only');
  const [echo] = await eventually(
    () => messages(waId),
    (m) => m.length === 1,
  );
  expect(echo).toMatchObject({ direction: 'outbound', source: 'app_echo', pricing: { billable: false, type: 'business_app' } });

  await customerWrites(waId, { text: 'Are you open today?' });
  const opened = await eventually(
    () => conversation(waId),
    (r) => r.body.customerServiceWindow.status === 'open',
  );
  expect(opened.body.inbox).toBe('open');
  expect(opened.body.allowedToSend).toBe('any');
  const all = await eventually(
    () => messages(waId),
    (m) => m.length === 2,
  );
  expect(all[1]).toMatchObject({ direction: 'inbound', source: 'customer', content: { text: { body: 'Are you open today?' } } });
  expect(opened.body.customerServiceWindow.expiresAt).toBe(all[1].timestamp + 24 * 3_600_000);

  // A later echo neither extends the window nor changes the inbox.
  await appSends(waId, 'See you soon');
  const after = await eventually(
    () => conversation(waId),
    (r) => r.body.counts.echoes === 2,
  );
  expect(after.body.customerServiceWindow.expiresAt).toBe(opened.body.customerServiceWindow.expiresAt);
});

/** An `smb_message_echoes` change with these echoes, as Meta writes it. */
function echoes(message_echoes: unknown[]) {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: wabaId,
        time: Math.floor(Date.now() / 1000),
        changes: [
          {
            field: 'smb_message_echoes',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: phone.slice(1), phone_number_id: phoneNumberId },
              message_echoes,
            },
          },
        ],
      },
    ],
  };
}

test('an echo whose direction is reversed (from the customer, to the business) is filed under the customer, never the business', async () => {
  const waId = nextCustomer();
  const business = phone.slice(1);
  const at = String(Math.floor(Date.now() / 1000));
  await postSigned(
    echoes([{ from: waId, to: business, id: `wamid.reversed-${waId}`, timestamp: at, type: 'text', text: { body: 'Reversed' } }]),
  );
  const [echo] = await eventually(
    () => messages(waId),
    (m) => m.length === 1,
  );
  expect(echo).toMatchObject({ id: `wamid.reversed-${waId}`, direction: 'outbound', source: 'app_echo' });
  expect((await conversation(waId)).body.counts.echoes).toBe(1);
  // An echo from the business to itself has no customer: classified and kept, not filed.
  const kept = (await h.store.listUnroutedWebhooks(200)).length;
  await postSigned(
    echoes([{ from: business, to: business, id: `wamid.to-itself-${waId}`, timestamp: at, type: 'text', text: { body: 'Me' } }]),
  );
  const [latest] = await eventually(
    () => h.store.listUnroutedWebhooks(200),
    (w) => w.length === kept + 1,
  );
  expect(latest!.classifications).toContain('smb_message_echoes:business_to_itself');
  // Nothing was ever filed under the business's own number.
  expect((await conversation(business)).status).toBe(404);
  expect(await messages(business)).toEqual([]);
});

test('Idempotency-Key on a send: the repeat gets the first answer, another message under the key is 409', async () => {
  const waId = nextCustomer();
  const post = (clientMessageId: string) =>
    fetch(`${h.apiUrl}/numbers/${phoneNumberId}/conversations/${waId}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': h.config.BACKEND_API_KEY, 'idempotency-key': `send-${waId}` },
      body: JSON.stringify({ clientMessageId, message: template }),
    });
  const first = await post('keyed-1');
  const firstText = await first.text();
  expect(first.status).toBe(202);
  const again = await post('keyed-1');
  expect([again.status, again.headers.get('idempotent-replayed'), await again.text()]).toEqual([202, 'true', firstText]);
  const other = await post('keyed-2');
  expect([other.status, ((await other.json()) as { error: { code: string } }).error.code]).toEqual([
    409,
    'idempotency_key_reused',
  ]);
  const sent = await eventually(
    () => messages(waId),
    (m) => m.length === 1 && m[0].status !== 'queued',
  );
  expect(sent.map((m) => m.clientMessageId)).toEqual(['keyed-1']);
});

test('free form outside the window is refused with 409 and the template hint; a template goes out once', async () => {
  const waId = nextCustomer();
  const refused = await send(waId, 'refused-1', text('Hello there'));
  expect(refused.status).toBe(409);
  expect(refused.body.error).toMatchObject({ code: 'customer_service_window_closed' });
  expect(refused.body.error.hint).toMatch(/template/i);

  const accepted = await send(waId, 'template-1', template);
  expect(accepted.status).toBe(202);
  // The same client message id again is the same message.
  expect((await send(waId, 'template-1', template)).status).toBe(202);

  const [sent] = await eventually(
    () => messages(waId),
    (m) => m.length === 1 && m[0].status === 'delivered',
  );
  expect(sent).toMatchObject({
    clientMessageId: 'template-1',
    source: 'platform',
    direction: 'outbound',
    pricing: { basis: 'meta' },
  });
  expect(sent.wamid).toMatch(/^wamid\./);
  const log = (await h.sim('GET', `/numbers/${phone}/sent`)).body;
  expect(log.sent.filter((s: any) => s.bizOpaqueCallbackData === 'template-1')).toHaveLength(1);
  expect(log.sent.some((s: any) => s.bizOpaqueCallbackData === 'refused-1')).toBe(false);

  // The customer reads it; a `delivered` redelivered afterwards is dropped and moves nothing back.
  expect((await h.sim('POST', `/messages/${sent.wamid}/status`, { status: 'read' })).status).toBe(202);
  await eventually(
    () => messages(waId),
    (m) => m[0].status === 'read',
  );
  const seconds = Math.floor(Date.now() / 1000);
  const lateDelivered = {
    id: sent.wamid,
    status: 'delivered',
    timestamp: String(seconds),
    recipient_id: waId,
    biz_opaque_callback_data: 'template-1',
  };
  const late = await postSigned({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: wabaId,
        time: seconds,
        changes: [
          {
            field: 'messages',
            value: {
              metadata: { display_phone_number: phone.slice(1), phone_number_id: phoneNumberId },
              statuses: [lateDelivered],
            },
          },
        ],
      },
    ],
  });
  // The inbox knows that status (wamid and status): kept, not queued again.
  expect(late).toEqual({ received: 1, queued: 0, unrouted: [] });
  expect((await messages(waId))[0].status).toBe('read');
});

test('sends in an open conversation are decided from the store, with no Update on the conversation; Meta closing the window closes it there too', async () => {
  const waId = nextCustomer();
  await customerWrites(waId, { text: 'Is my order ready?' });
  // The conversation keeps its row in the store once its inbox opened; the customer's message is counted there.
  await eventually(
    () => h.store.getConversation(phoneNumberId, waId),
    (c) => c.row?.inbox === 'open' && c.counts.customer === 1,
  );
  const answers = [];
  for (const n of [1, 2, 3]) answers.push(await send(waId, `store-${waId}-${n}`, text(`Ready at ${n}`)));
  expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
  expect(answers.map((a) => a.body.conversation.counts.platform)).toEqual([1, 2, 3]);
  expect(answers[2]!.body.conversation).toMatchObject({
    customerServiceWindow: { status: 'open' },
    inbox: 'open',
    allowedToSend: 'any',
    state: 'customerServiceWindow.open,freeEntryPoint.none,inbox.open',
  });
  const sent = await eventually(
    () => messages(waId),
    (m) => m.filter((x) => x.source === 'platform' && x.status === 'delivered').length === 3,
  );
  expect(sent.filter((x) => x.source === 'platform').map((x) => x.pricing.billable)).toEqual([false, false, false]);
  const handle = h.env.client.workflow.getHandle(conversationWorkflowId(phoneNumberId, waId));
  const updates = async () =>
    (await handle.fetchHistory()).events!.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length;
  expect(await updates()).toBe(0);
  expect((await conversation(waId)).body.counts).toMatchObject({ customer: 1, platform: 3 });

  // Meta says the window closed (131047 on a status): the conversation closes it, and its row says so.
  const wamid = sent.find((x) => x.source === 'platform')!.wamid;
  expect((await h.sim('POST', `/messages/${wamid}/status`, { status: 'failed', errorCode: 131047 })).status).toBe(202);
  await eventually(
    () => h.store.getConversation(phoneNumberId, waId),
    (c) => c.row?.customerServiceWindow.status === 'closed',
  );
  // A free-form send is then refused, in the machine's words; a template still goes.
  const refused = await send(waId, `store-${waId}-closed`, text('Still there?'));
  expect(refused.status).toBe(409);
  expect(refused.body.error).toMatchObject({ code: 'customer_service_window_closed' });
  expect(refused.body.error.message).toMatch(/131047/);
  expect((await send(waId, `store-${waId}-template`, template)).status).toBe(202);
  // The customer writes again: free-form goes once more.
  await customerWrites(waId, { text: 'Yes' });
  await eventually(
    () => h.store.getConversation(phoneNumberId, waId),
    (c) => c.counts.customer === 2,
  );
  expect((await send(waId, `store-${waId}-again`, text('Great'))).status).toBe(202);
});

test('duplicated and shuffled webhook deliveries record each message once', async () => {
  const waId = nextCustomer();
  const seconds = Math.floor(Date.now() / 1000);
  const change = (messages: unknown[]) => customerMessages(waId, messages);
  const m1 = { from: waId, id: `wamid.dup1-${waId}`, timestamp: String(seconds - 5), type: 'text', text: { body: 'first' } };
  const m2 = { from: waId, id: `wamid.dup2-${waId}`, timestamp: String(seconds - 2), type: 'text', text: { body: 'second' } };
  const queued = [];
  for (const messages of [[m2], [m1, m2], [m1], [m2, m1]]) queued.push((await postSigned(change(messages))).queued);
  // Six message events in all, two of them new: the inbox queues each once, by message id.
  expect(queued).toEqual([1, 1, 0, 0]);
  const handle = h.env.client.workflow.getHandle(conversationWorkflowId(phoneNumberId, waId));
  await eventually(
    () => handle.query(stateQuery).catch(() => undefined),
    (v) => (v?.context as any)?.counts.customer === 2,
  );
  // The store writes after the workflow counts: wait for both rows, then there must be no third.
  const recorded = await eventually(
    () => messages(waId),
    (list) => list.length >= 2,
  );
  expect(recorded.map((m) => m.id)).toEqual([m1.id, m2.id]);
  // The counts shown are the store's, counted as each message was recorded: each once.
  const view = await conversation(waId);
  expect(view.body.counts.customer).toBe(2);
  // The window runs from the newest message, whatever the order of arrival.
  expect(view.body.customerServiceWindow.expiresAt).toBe((seconds - 2) * 1000 + 24 * 3_600_000);
});

test('a long conversation continues as new, keeping its window, counts and de-duplication; messages page without gaps', async () => {
  const waId = nextCustomer();
  const handle = await h.env.client.workflow.start('conversationWorkflow', {
    workflowId: conversationWorkflowId(phoneNumberId, waId),
    taskQueue: h.config.TEMPORAL_TASK_QUEUE,
    args: [{ input: { phoneNumberId, waId }, continueAsNewAfterEvents: 25 }],
  });
  const seconds = Math.floor(Date.now() / 1000);
  const all = Array.from({ length: 60 }, (_, i) => ({
    from: waId,
    id: `wamid.long-${waId}-${i}`,
    timestamp: String(seconds - 60 + i),
    type: 'text',
    text: { body: `m${i}` },
  }));
  for (let i = 0; i < all.length; i += 10) await postSigned(customerMessages(waId, all.slice(i, i + 10)));
  await eventually(
    () => handle.query(stateQuery),
    (v) => v.generation >= 2 && (v.context as any).counts.customer === 60,
  );
  // Meta redelivers the first batch after the boundary: the inbox knows it (not queued again), and
  // the workflow, handed it anyway (as a dispatcher that died before marking it done would), still
  // knows it too: dropped.
  expect((await postSigned(customerMessages(waId, all.slice(0, 10)))).queued).toBe(0);
  for (const m of all.slice(0, 10)) {
    await handle.signal(eventSignal, {
      type: 'customer.message',
      message: { id: m.id, timestamp: Number(m.timestamp) * 1000, type: 'text', content: { text: m.text } },
      at: Date.now(),
    } as MachineEvent);
  }
  const view = await eventually(
    () => handle.query(stateQuery),
    (v) => v.duplicateCount === 10 && (v.context as any).counts.customer === 60,
  );
  expect(view.state).toMatch(/customerServiceWindow\.open/);
  expect((await conversation(waId)).body.customerServiceWindow.expiresAt).toBe((seconds - 1) * 1000 + 24 * 3_600_000);

  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = (
      await h.api(
        'GET',
        `/numbers/${phoneNumberId}/conversations/${waId}/messages?order=asc&limit=25${cursor ? `&cursor=${cursor}` : ''}`,
      )
    ).body;
    ids.push(...page.messages.map((m: any) => m.id));
    cursor = page.nextCursor;
  } while (cursor);
  expect(ids).toEqual(all.map((m) => m.id));
  const bad = await h.api('GET', `/numbers/${phoneNumberId}/conversations/${waId}/messages?cursor=not-a-cursor`);
  expect(bad.status).toBe(400);
  expect(bad.body.error.field).toBe('query.cursor');
});

test('a burst of 200 sends to 50 customers never exceeds 20 requests in any second, and each is sent once', async () => {
  const waIds = Array.from({ length: 50 }, nextCustomer);
  const { since, requests, sent } = await burstOfSends(h, phone, phoneNumberId, waIds, 4, 'burst');
  // What Meta received, accepted or refused: within the limit, and never refused for the rate.
  expectPaced(requests, since);
  expect(sent).toHaveLength(200);
  expect(new Set(sent.map((s: any) => s.bizOpaqueCallbackData)).size).toBe(200);
  // Each customer's messages left in the order they were accepted.
  for (const waId of waIds) {
    const order = sent.filter((s: any) => s.to === waId).map((s: any) => s.bizOpaqueCallbackData);
    expect(order).toEqual([1, 2, 3, 4].map((n) => `burst-${waId}-${n}`));
  }
  // And every one is recorded as sent, once.
  const recorded = await eventually(
    () => messages(waIds[0]!),
    (m) => m.filter((x) => x.source === 'platform' && x.wamid).length === 4,
  );
  expect(recorded.filter((m) => m.source === 'platform')).toHaveLength(4);
});

test('throttling and 5xx are retried with backoff; a send whose answer was lost is never repeated', async () => {
  const waId = nextCustomer();
  await customerWrites(waId);
  await eventually(
    () => conversation(waId),
    (r) => r.body?.customerServiceWindow?.status === 'open',
  );
  const sentTo = async () => ((await h.sim('GET', `/numbers/${phone}/sent`)).body.sent as any[]).filter((s) => s.to === waId);

  // Meta drops the connection after taking the first message: its answer is lost.
  await h.sim('PUT', '/faults', { dropAfterApply: ['messages'], endpoints: ['messages'] });
  expect((await send(waId, 'lost-answer', text('first'))).status).toBe(202);
  const [lost] = await eventually(
    () => messages(waId),
    (m) => m.some((x) => x.clientMessageId === 'lost-answer' && x.status === 'delivered'),
  ).then((m) => m.filter((x) => x.clientMessageId === 'lost-answer'));
  // Settled by the status webhooks that carry its client message id, not by sending it again.
  expect(lost.wamid).toMatch(/^wamid\./);
  expect((await sentTo()).filter((s) => s.bizOpaqueCallbackData === 'lost-answer')).toHaveLength(1);

  // Half of the calls throttled (80007) or failing (5xx), and at most 2 messages to this customer in 6 s (131056).
  const roughSince = h.simulator.world.clock.now();
  await h.sim('PUT', '/faults', { errorRate: 0.25, throttleRate: 0.25, seed: 11, endpoints: ['messages'] });
  await h.sim('PUT', '/pair-rate', { messages: 2, perMs: 6_000 });
  try {
    for (const n of [1, 2, 3, 4]) expect((await send(waId, `rough-${n}`, text(`rough ${n}`))).status).toBe(202);
    await eventually(sentTo, (sent) => sent.filter((s) => String(s.bizOpaqueCallbackData).startsWith('rough-')).length === 4, {
      timeoutMs: 90_000,
      intervalMs: 250,
    });
  } finally {
    await h.sim('DELETE', '/faults');
    await h.sim('DELETE', '/pair-rate');
  }
  const rough = (await sentTo()).filter((s) => String(s.bizOpaqueCallbackData).startsWith('rough-'));
  expect(rough.map((s) => s.bizOpaqueCallbackData)).toEqual(['rough-1', 'rough-2', 'rough-3', 'rough-4']);
  // The sender paused: after each refusal, this customer's next request came only after the pause
  // (131056: the customer, 6 s; a 5xx or 80007: that send, 1 s), counted from Meta's answer.
  const requests = ((await h.sim('GET', `/numbers/${phone}/sent`)).body.requests as LoggedSendRequest[])
    .filter((r) => r.at >= roughSince && r.to === waId)
    .sort((a, b) => a.at - b.at);
  const pauses = requests.slice(0, -1).flatMap((r, i) => {
    const pause = r.code === 131056 ? 6_000 : r.code === 80007 || (r.status ?? 0) >= 500 ? 1_000 : 0;
    return pause ? [{ code: r.code, waited: requests[i + 1]!.at - r.answeredAt! >= pause }] : [];
  });
  expect(pauses.filter((p) => p.code === 131056).length).toBeGreaterThan(0);
  expect(pauses.filter((p) => !p.waited)).toEqual([]);
  const sender = await h.env.client.workflow.getHandle(`sender:${phoneNumberId}`).query(senderQuery);
  expect(sender.counts.throttled).toBeGreaterThanOrEqual(pauses.filter((p) => p.code === 131056).length);
  expect(sender.counts.retried).toBeGreaterThan(0);
  expect(sender.counts.unconfirmed).toBeGreaterThanOrEqual(1);
}, 150_000);

test('131042 from Meta fails the message and blocks sending on the onboarding', async () => {
  const blockedPhone = '+15550200002';
  const ids = await onboardToActive(h, blockedPhone);
  const waId = nextCustomer();
  await customerWrites(waId, { text: 'Hello?' }, blockedPhone);
  await eventually(
    () => conversation(waId, ids.phoneNumberId),
    (r) => r.body?.customerServiceWindow?.status === 'open',
  );

  await h.sim('PATCH', `/numbers/${blockedPhone}`, { paymentMethod: false });
  expect((await send(waId, 'no-payment-1', text('We are open'), ids.phoneNumberId)).status).toBe(202);
  const [failed] = await eventually(
    () => messages(waId, ids.phoneNumberId),
    (m) => m.some((x) => x.clientMessageId === 'no-payment-1' && x.status === 'failed'),
  ).then((m) => m.filter((x) => x.clientMessageId === 'no-payment-1'));
  expect(failed).toMatchObject({ errorCode: 131042 });
  const onboarding = await h.onboardingWhen(blockedPhone, (o) => o.statusCard.sendingState.canSend === false);
  expect(onboarding.statusCard.sendingState.reason).toBe('payment_missing');
});

test('a webhook at an API whose Temporal cannot be reached is answered 200 from the inbox, and applied once, by a dispatcher that can', async () => {
  // An API whose Temporal is gone (a lazy connection to a port where nothing listens), sharing the
  // store with the harness's API, whose dispatcher reaches Temporal.
  const deadPort = await freePort();
  const deadClient = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${deadPort}` }) });
  const downApp = createApp({ config: h.config, client: deadClient, store: h.store, log: pino({ level: 'silent' }) });
  const downPort = await freePort();
  const down: Server = await new Promise((resolve) => {
    const s = downApp.listen(downPort, '127.0.0.1', () => resolve(s));
  });
  const waId = nextCustomer();
  try {
    await h.sim('PUT', '/webhook-target', { url: `http://127.0.0.1:${downPort}/webhooks/meta` });
    const { wamid } = (await customerWrites(waId, { text: 'Anyone there?' })).body;
    const answered = await eventually(
      () => h.sim('GET', '/webhooks'),
      (r) => r.body.pending === 0 && r.body.lastStatus === 200,
      { timeoutMs: 60_000 },
    );
    expect(answered.body.pending).toBe(0);
    const recorded = await eventually(
      () => messages(waId),
      (m) => m.length === 1,
      { timeoutMs: 60_000 },
    );
    expect(recorded[0]).toMatchObject({ id: wamid, source: 'customer' });
  } finally {
    await h.sim('PUT', '/webhook-target', { url: `${h.apiUrl}/webhooks/meta` });
    await new Promise((r) => down.close(r));
    await deadClient.connection.close();
  }
});

test('bad input to the conversation routes gets 400 naming the field, an unknown conversation 404, and nothing starts', async () => {
  const waId = nextCustomer();
  const cases: [string, string, unknown, string][] = [
    [
      'POST',
      `/numbers/${phoneNumberId}/conversations/+${waId}/messages`,
      { clientMessageId: 'x', message: text('hi') },
      'params.waId',
    ],
    [
      'POST',
      `/numbers/not-an-id/conversations/${waId}/messages`,
      { clientMessageId: 'x', message: text('hi') },
      'params.phoneNumberId',
    ],
    [
      'POST',
      `/numbers/${phoneNumberId}/conversations/${waId}/messages`,
      { clientMessageId: 'x y', message: text('hi') },
      'body.clientMessageId',
    ],
    [
      'POST',
      `/numbers/${phoneNumberId}/conversations/${waId}/messages`,
      { clientMessageId: 'x', message: { type: 'text', text: { body: '' } } },
      'body.message.text.body',
    ],
    [
      'POST',
      `/numbers/${phoneNumberId}/conversations/${waId}/messages`,
      { clientMessageId: 'x', message: { type: 'location' } },
      'body.message.type',
    ],
    ['GET', `/numbers/${phoneNumberId}/conversations/${waId}/messages?limit=500`, undefined, 'query.limit'],
  ];
  for (const [method, path, body, field] of cases) {
    const answer = await h.api(method, path, body);
    expect({ path, status: answer.status, field: answer.body.error?.field }).toEqual({ path, status: 400, field });
  }
  expect((await conversation(waId)).status).toBe(404);
  expect((await h.api('GET', `/numbers/${phoneNumberId}/conversations/${waId}`)).body.error.code).toBe('not_found');
});

test('a 131062 refusal (Meta will not send this message to a username) is shown on the message with its remedy', async () => {
  const waId = nextCustomer();
  expect((await send(waId, 'otp-131062', template)).status).toBe(202);
  const [sent] = await eventually(
    () => messages(waId),
    (m) => m.length === 1 && m[0].wamid !== undefined,
  );
  expect((await h.sim('POST', `/messages/${sent.wamid}/status`, { status: 'failed', errorCode: 131062 })).status).toBe(202);
  const [failed] = await eventually(
    () => messages(waId),
    (m) => m[0].status === 'failed',
  );
  expect(failed).toMatchObject({
    clientMessageId: 'otp-131062',
    errorCode: 131062,
    errorTitle: 'BSUID recipients not supported',
    reason: 'bsuid_recipient_not_supported',
  });
  expect(failed.remedy).toMatch(/phone number/);
  // One message's refusal: the conversation and the number can still send.
  expect((await send(waId, 'after-131062', template)).status).toBe(202);
});
