/**
 * What happens to Meta's webhooks once they reach a workflow and the store (issue 17, findings 1,
 * 5, 6 and 7), on real Temporal, HTTP and signatures: Meta's documented payload shapes in signed
 * envelopes, posted to the API as Meta posts them.
 */
import { createHash } from 'node:crypto';
import { signWebhook } from '../../api/webhooks/signature';
import { conversationWorkflowId, onboardingWorkflowId } from '../../contracts/ids';
import type { OnboardingContext } from '../../machines/onboarding';
import { PERMANENT_FAILURE_ATTEMPTS } from '../../activities/parking';
import { http } from '../helpers/harness';
import { startHarness, type Harness } from '../helpers/harness';
import { onboardToActive } from '../helpers/onboard';
import { postSignedWebhook } from '../helpers/webhooks';
import { eventually, viewWhen } from '../helpers/wait';

const OPS_TOKEN = 'effects-ops-token-0001';
const DAY_MS = 24 * 60 * 60 * 1000;

let h: Harness;
const phone = '+15550300001';
const otherPhone = '+15550300002';
let pnid: string;
let wabaId: string;
let otherPnid: string;
let otherWabaId: string;

beforeAll(async () => {
  h = await startHarness({ env: { OPS_TOKENS: `ops:${OPS_TOKEN}` } });
  ({ phoneNumberId: pnid, wabaId } = await onboardToActive(h, phone));
  ({ phoneNumberId: otherPnid, wabaId: otherWabaId } = await onboardToActive(h, otherPhone));
});

afterAll(async () => {
  await h?.stop();
});

let customers = 0;
const nextCustomer = () => `1650666${String(++customers).padStart(4, '0')}`;
let messageSeq = 0;
const nextWamid = () => `wamid.effects-${process.pid}-${++messageSeq}`;
const nowSeconds = () => String(Math.floor(Date.now() / 1000));

/** Posts a body exactly as given (bytes and all), signed with the app secret as Meta signs it. */
const postSigned = (body: unknown) => postSignedWebhook(h, body);

const envelope = (entryId: string, field: string, value: unknown, time = Math.floor(Date.now() / 1000)) => ({
  object: 'whatsapp_business_account',
  entry: [{ id: entryId, time, changes: [{ field, value }] }],
});

const metadata = (number = phone, phoneNumberId = pnid) => ({
  display_phone_number: number.slice(1),
  phone_number_id: phoneNumberId,
});

/** A `messages` change with one customer text, as Meta writes it. */
function customerText(
  waId: string,
  id: string,
  body: string,
  timestamp: unknown = nowSeconds(),
  number = phone,
  phoneNumberId = pnid,
) {
  return envelope(number === phone ? wabaId : otherWabaId, 'messages', {
    messaging_product: 'whatsapp',
    metadata: metadata(number, phoneNumberId),
    contacts: [{ wa_id: waId, profile: { name: 'Sheena Nelson' } }],
    messages: [{ from: waId, id, timestamp, type: 'text', text: { body } }],
  });
}

/** An `smb_message_echoes` change: the business wrote `body` to `waId` in the phone app. */
function echo(waId: string, id: string, body: string) {
  return envelope(wabaId, 'smb_message_echoes', {
    messaging_product: 'whatsapp',
    metadata: metadata(),
    message_echoes: [{ from: phone.slice(1), to: waId, id, timestamp: nowSeconds(), type: 'text', text: { body } }],
  });
}

/** A `messages` change with one status of a message sent to `waId`. */
function status(waId: string, id: string, s: 'sent' | 'delivered' | 'read') {
  return envelope(wabaId, 'messages', {
    messaging_product: 'whatsapp',
    metadata: metadata(),
    statuses: [
      {
        id,
        status: s,
        timestamp: nowSeconds(),
        recipient_id: waId,
        pricing: { billable: false, pricing_model: 'PMP', type: 'free_customer_service', category: 'service' },
      },
    ],
  });
}

const messages = async (waId: string, phoneNumberId = pnid, order: 'asc' | 'desc' = 'asc') =>
  (await h.api('GET', `/numbers/${phoneNumberId}/conversations/${waId}/messages?order=${order}&limit=200`)).body
    .messages as any[];
const messagesWhen = (waId: string, accept: (m: any[]) => boolean, phoneNumberId = pnid) =>
  eventually(() => messages(waId, phoneNumberId), accept);
const parked = async () =>
  (await http(h.apiUrl, 'GET', '/ops/parked?limit=200', undefined, { authorization: `Bearer ${OPS_TOKEN}` })).body
    .parked as any[];

describe('poison-proof effects (finding 1)', () => {
  test('a lone surrogate and a cross-number id no longer block the next message', async () => {
    const waId = nextCustomer();
    const shared = nextWamid();
    // The same wamid under two business numbers: ids are unique per number, not across them.
    await postSigned(customerText(waId, shared, 'for the other number', nowSeconds(), otherPhone, otherPnid));
    await messagesWhen(waId, (m) => m.length === 1, otherPnid);
    await postSigned(customerText(waId, shared, 'cross-number id'));
    const surrogate = nextWamid();
    await postSigned(customerText(waId, surrogate, 'lone \ud800 surrogate'));
    const next = nextWamid();
    await postSigned(customerText(waId, next, 'the next message'));

    const stored = await messagesWhen(waId, (m) => m.some((x) => x.id === next));
    expect(stored.map((m) => m.id)).toEqual([shared, surrogate, next]);
    // Read back exactly as Meta sent it.
    expect(stored.find((m) => m.id === surrogate).content).toEqual({ text: { body: 'lone \ud800 surrogate' } });
    expect(stored.find((m) => m.id === shared).content).toEqual({ text: { body: 'cross-number id' } });
    expect((await messages(waId, otherPnid))[0].content).toEqual({ text: { body: 'for the other number' } });
  });

  test('a different message under a known id and an echo reusing an inbound id are kept as conflicts, and the next message is stored', async () => {
    const waId = nextCustomer();
    const id = nextWamid();
    await postSigned(customerText(waId, id, 'the first'));
    await messagesWhen(waId, (m) => m.length === 1);
    await postSigned(customerText(waId, id, 'a different message under the same id'));
    await postSigned(echo(waId, id, 'an echo reusing the inbound id'));
    const next = nextWamid();
    await postSigned(customerText(waId, next, 'the next message'));

    const stored = await messagesWhen(waId, (m) => m.some((x) => x.id === next));
    expect(stored.map((m) => [m.id, m.content.text.body])).toEqual([
      [id, 'the first'],
      [next, 'the next message'],
    ]);
    const conflicts = (await eventually(parked, (p) => p.filter((e) => e.params?.id === id).length === 2)).filter(
      (e) => e.params?.id === id,
    );
    for (const conflict of conflicts) {
      expect(conflict).toMatchObject({
        workflowId: conversationWorkflowId(pnid, waId),
        action: 'recordMessage',
        reason: 'conflict',
        attempts: 1,
        error: expect.stringContaining('already recorded as a different message'),
      });
    }
    expect(conflicts.map((c) => [c.params.source, c.params.content.text.body]).sort()).toEqual([
      ['app_echo', 'an echo reusing the inbound id'],
      ['customer', 'a different message under the same id'],
    ]);
  });

  test('a message the store cannot take is retried a bounded number of times, then parked, and the next message is stored', async () => {
    const waId = nextCustomer();
    // An id beyond what PostgreSQL can index (Meta sets no length; no retry can store it).
    let huge = '';
    for (let i = 0; huge.length < 12_000; i++) huge += createHash('sha256').update(`${i}`).digest('base64url');
    const poison = `wamid.${huge}`;
    await postSigned(customerText(waId, poison, 'too long an id'));
    const next = nextWamid();
    await postSigned(customerText(waId, next, 'the next message'));

    const stored = await messagesWhen(waId, (m) => m.some((x) => x.id === next));
    expect(stored.map((m) => m.id)).toEqual([next]);
    const entry = (await eventually(parked, (p) => p.some((e) => e.params?.id === poison))).find((e) => e.params?.id === poison);
    expect(entry).toMatchObject({
      workflowId: conversationWorkflowId(pnid, waId),
      action: 'recordMessage',
      reason: 'failed',
      attempts: PERMANENT_FAILURE_ATTEMPTS,
      params: { content: { text: { body: 'too long an id' } } },
    });
    const metrics = await (await fetch(`${h.apiUrl}/metrics`)).text();
    expect(metrics).toMatch(/coexist_effects_parked_total\{action="recordMessage",reason="failed"\} [1-9]/);
  });
});

describe('time is not trusted (finding 5)', () => {
  test('a year-2100 timestamp opens no window beyond now + 24 h and does not pin the message to the top', async () => {
    const waId = nextCustomer();
    const future = nextWamid();
    const before = Date.now();
    await postSigned(customerText(waId, future, 'from the future', '4102444800'));
    await messagesWhen(waId, (m) => m.length === 1);
    const now = nextWamid();
    await postSigned(customerText(waId, now, 'now'));
    await messagesWhen(waId, (m) => m.length === 2);

    const newestFirst = await messages(waId, pnid, 'desc');
    expect(newestFirst.map((m) => m.id)).toEqual([now, future]);
    expect(newestFirst[1].timestamp).toBeLessThanOrEqual(Date.now());
    const view = (await h.api('GET', `/numbers/${pnid}/conversations/${waId}`)).body;
    expect(view.customerServiceWindow.status).toBe('open');
    expect(view.customerServiceWindow.expiresAt).toBeGreaterThanOrEqual(before + DAY_MS - 60_000);
    expect(view.customerServiceWindow.expiresAt).toBeLessThanOrEqual(Date.now() + DAY_MS);
  });

  test('a timestamp that is a number, empty, "abc", negative or in milliseconds does not cost the message', async () => {
    const waId = nextCustomer();
    const sent = Date.now() - 60_000;
    const cases: [string, unknown][] = [
      ['number', Math.floor(sent / 1000)],
      ['empty', ''],
      ['abc', 'abc'],
      ['negative', '-5'],
      ['milliseconds', String(sent)],
    ];
    const ids = cases.map(() => nextWamid());
    const before = Math.floor(Date.now() / 1000) * 1000;
    for (const [i, [label, timestamp]] of cases.entries()) await postSigned(customerText(waId, ids[i]!, label, timestamp));
    const stored = await messagesWhen(waId, (m) => m.length === cases.length);
    const byBody = Object.fromEntries(stored.map((m) => [m.content.text.body, m.timestamp]));
    expect(byBody.number).toBe(Math.floor(sent / 1000) * 1000);
    expect(byBody.milliseconds).toBe(Math.floor(sent / 1000) * 1000);
    // No time of its own: the (second) it was received.
    for (const label of ['empty', 'abc', 'negative']) {
      expect(byBody[label]).toBeGreaterThanOrEqual(before);
      expect(byBody[label]).toBeLessThanOrEqual(Date.now());
    }
  });
});

describe('idempotent redeliveries (finding 6)', () => {
  test('three redeliveries of each webhook-driven onboarding event (quality, name, history progress, account_update by number and by WABA) record it once; history progress never goes back', async () => {
    const handle = h.env.client.workflow.getHandle(onboardingWorkflowId(phone));
    // The simulator's own history (phases 0 and 1) has arrived.
    const start = await viewWhen<OnboardingContext>(handle, (v) => v.context.history.chunks >= 2);
    const time = Math.floor(Date.now() / 1000);
    const number = phone.slice(1);
    const deliveries = [
      envelope(
        wabaId,
        'phone_number_quality_update',
        { display_phone_number: number, event: 'ONBOARDING', max_daily_conversations_per_business: 'TIER_2K' },
        time,
      ),
      envelope(
        wabaId,
        'phone_number_name_update',
        {
          display_phone_number: number,
          decision: 'APPROVED',
          requested_verified_name: "Jasper's Market",
          rejection_reason: null,
        },
        time,
      ),
      envelope(
        wabaId,
        'history',
        {
          messaging_product: 'whatsapp',
          metadata: metadata(),
          history: [{ metadata: { phase: 2, chunk_order: 1, progress: 100 }, threads: [] }],
        },
        time,
      ),
      envelope(wabaId, 'account_update', { phone_number: number, event: 'VOLUME_BASED_PRICING_TIER_UPDATE' }, time),
      // One that names no number: for every running onboarding of the WABA in waba_info.
      envelope(
        '900000000000099',
        'account_update',
        { event: 'PARTNER_APP_INSTALLED', waba_info: { waba_id: wabaId, owner_business_id: '900000000000098' } },
        time,
      ),
    ];
    for (let round = 0; round < 3; round++) for (const delivery of deliveries) await postSigned(delivery);
    // A late chunk of phase 0 (new: counted) does not move the phase back.
    await postSigned(
      envelope(
        wabaId,
        'history',
        {
          messaging_product: 'whatsapp',
          metadata: metadata(),
          history: [{ metadata: { phase: 0, chunk_order: 7, progress: 40 }, threads: [] }],
        },
        time,
      ),
    );

    // The inbox keeps each redelivery's items under the keys of the first, so none reaches the
    // workflow again (the workflow's own dedupe, below it, stays for replays from the quarantine).
    const view = await viewWhen<OnboardingContext>(
      handle,
      (v) =>
        v.context.history.chunks >= start.context.history.chunks + 2 &&
        v.context.lifecycleEvents.some((e) => e.event === 'PARTNER_APP_INSTALLED'),
    );
    expect(view.duplicateCount).toBe(start.duplicateCount);
    expect(view.context.history).toMatchObject({ chunks: start.context.history.chunks + 2, phase: 2, chunkOrder: 1 });
    const newEntries = view.timeline.slice(start.timeline.length);
    for (const event of ['account.qualityUpdate', 'account.nameUpdate']) {
      expect(newEntries.filter((t) => t.event === event)).toHaveLength(1);
    }
    for (const event of ['VOLUME_BASED_PRICING_TIER_UPDATE', 'PARTNER_APP_INSTALLED']) {
      expect(view.context.lifecycleEvents.filter((e) => e.event === event)).toHaveLength(1);
    }
    expect(view.context.statusCard).toMatchObject({ nameDecision: 'APPROVED' });
  });
});

describe('statuses always visible (finding 7)', () => {
  test('a status before its echo shows on it; statuses of an app-sent message show', async () => {
    const waId = nextCustomer();
    const early = nextWamid();
    await postSigned(status(waId, early, 'delivered'));
    // Its message is not known yet: an orphan status in the read API.
    const orphans = await eventually(
      async () => (await h.api('GET', `/numbers/${pnid}/conversations/${waId}/orphan-statuses`)).body.statuses as any[],
      (s) => s.length === 1,
    );
    expect(orphans[0]).toMatchObject({ wamid: early, status: 'delivered', waId, receivedAt: expect.any(String) });
    await postSigned(echo(waId, early, 'typed in the app before its status'));
    await messagesWhen(waId, (m) => m[0]?.status === 'delivered');
    expect((await h.api('GET', `/numbers/${pnid}/conversations/${waId}/orphan-statuses`)).body.statuses).toEqual([]);

    const later = nextWamid();
    await postSigned(echo(waId, later, 'typed in the app'));
    await messagesWhen(waId, (m) => m.some((x) => x.id === later));
    for (const s of ['sent', 'delivered', 'read'] as const) await postSigned(status(waId, later, s));
    const stored = await messagesWhen(waId, (m) => m.find((x) => x.id === later)?.status === 'read');
    expect(stored.map((m) => [m.id, m.source, m.status])).toEqual([
      [early, 'app_echo', 'delivered'],
      [later, 'app_echo', 'read'],
    ]);
  });

  test('a status whose message never comes stays readable as an orphan status', async () => {
    const waId = nextCustomer();
    const never = nextWamid();
    await postSigned(status(waId, never, 'read'));
    const orphans = await eventually(
      async () => (await h.api('GET', `/numbers/${pnid}/conversations/${waId}/orphan-statuses`)).body.statuses as any[],
      (s) => s.length === 1,
    );
    expect(orphans[0]).toMatchObject({
      phoneNumberId: pnid,
      waId,
      wamid: never,
      status: 'read',
      pricing: { billable: false, type: 'free_customer_service', category: 'service', basis: 'meta' },
    });
    expect(await messages(waId)).toEqual([]);
  });
});

describe('a message read back as the bytes it came in (finding 7)', () => {
  /** GET …/messages/:id/raw: the answer's bytes, headers and status. */
  async function raw(waId: string, id: string) {
    const response = await fetch(`${h.apiUrl}/numbers/${pnid}/conversations/${waId}/messages/${encodeURIComponent(id)}/raw`, {
      headers: { 'x-api-key': h.config.BACKEND_API_KEY },
    });
    return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
  }

  test('a message’s raw route returns the delivery byte for byte (a lone surrogate escape included) and where the message is in it; 404 otherwise', async () => {
    const waId = nextCustomer();
    const target = nextWamid();
    const before = nextWamid();
    const time = nowSeconds();
    const meta = JSON.stringify(metadata());
    // Written by hand, as Meta's bytes are: spacing, key order and escapes that JSON.stringify
    // would not reproduce. The other number's entry carries the same id first (ids are unique per
    // number, not across them), so the message is found under its own number.
    const body = `{"object":"whatsapp_business_account","entry":[
 {"id":"${otherWabaId}","time":${time},"changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":${JSON.stringify(metadata(otherPhone, otherPnid))},"messages":[{"from":"${waId}","id":"${target}","timestamp":"${time}","type":"text","text":{"body":"for the other number"}}]}}]},
 {"id":"${wabaId}","time":${time},"changes":[
  {"field":"messages","value":{"messaging_product":"whatsapp","metadata":${meta},"statuses":[{"id":"${nextWamid()}","status":"read","timestamp":"${time}","recipient_id":"${waId}"}]}},
  {"field":"messages","value":{"messaging_product":"whatsapp","metadata":${meta},"contacts":[{"wa_id":"${waId}","profile":{"name":"Sheena"}}],
   "messages":[
    {"from":"${waId}","id":"${before}","timestamp":"${time}","type":"text","text":{"body":"first"}},
    {"timestamp":"${time}","from":"${waId}","id":"${target}","type":"text","text":{"body":"lone \\ud800 surrogate, caf\\u00e9 and café"}}
   ]}}
 ]}
]}`;
    const sent = Buffer.from(body, 'utf8');
    const post = () =>
      fetch(`${h.apiUrl}/webhooks/meta`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhook(sent, h.config.META_APP_SECRET) },
        body: sent,
      });
    expect((await post()).status).toBe(200);
    const stored = await messagesWhen(waId, (m) => m.some((x) => x.id === target));
    expect(stored.find((m) => m.id === target).content).toEqual({ text: { body: 'lone \ud800 surrogate, café and café' } });

    const got = await raw(waId, target);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toMatch(/^application\/json/);
    expect(got.bytes.equals(sent)).toBe(true);
    expect(got.bytes.toString('utf8')).toContain('lone \\ud800 surrogate');
    expect({
      path: got.headers.get('coexist-item-path'),
      entry: got.headers.get('coexist-entry-index'),
      change: got.headers.get('coexist-change-index'),
    }).toEqual({ path: 'entry[1].changes[1].value.messages[1]', entry: '1', change: '1' });
    expect(got.headers.get('coexist-delivery-id')).toMatch(/^\d+$/);
    expect(got.headers.get('coexist-item-id')).toMatch(/^\d+$/);
    expect(Date.parse(got.headers.get('coexist-delivery-received-at')!)).toBeLessThanOrEqual(Date.now());
    // The message beside it came in the same delivery.
    const beside = await raw(waId, before);
    expect(beside.bytes.equals(sent)).toBe(true);
    expect(beside.headers.get('coexist-delivery-id')).toBe(got.headers.get('coexist-delivery-id'));
    expect(beside.headers.get('coexist-item-path')).toBe('entry[1].changes[1].value.messages[0]');

    // A redelivery of the same bytes changes nothing: still the first delivery.
    expect(await (await post()).json()).toMatchObject({ queued: 0 });
    expect((await raw(waId, target)).headers.get('coexist-delivery-id')).toBe(got.headers.get('coexist-delivery-id'));

    // Unknown here: 404 with a JSON error that says so.
    for (const [who, id] of [
      [waId, nextWamid()],
      [nextCustomer(), target],
    ] as const) {
      const unknown = await raw(who, id);
      expect(unknown.status).toBe(404);
      expect(JSON.parse(unknown.bytes.toString())).toEqual({
        error: { code: 'not_found', message: `no message ${id} in the conversation of ${who} on ${pnid}` },
      });
    }

    // A platform send came in no delivery: 404 raw_not_kept, saying why.
    const clientMessageId = `raw-${process.pid}-${messageSeq}`;
    const send = await h.api('POST', `/numbers/${pnid}/conversations/${waId}/messages`, {
      clientMessageId,
      message: { type: 'text', text: { body: 'Your order has shipped.' } },
    });
    expect(send.status).toBe(202);
    const platform = (await messagesWhen(waId, (m) => m.some((x) => x.clientMessageId === clientMessageId))).find(
      (x) => x.clientMessageId === clientMessageId,
    );
    const notKept = await raw(waId, platform.id);
    expect(notKept.status).toBe(404);
    expect(JSON.parse(notKept.bytes.toString()).error).toMatchObject({
      code: 'raw_not_kept',
      hint: expect.stringContaining('sent by the platform'),
    });
  });
});
