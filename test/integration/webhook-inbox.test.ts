/**
 * The webhook inbox (issue 17): a signed delivery is kept whole and answered 200 before any
 * workflow sees it, then dispatched, item by item, to its workflows; what cannot be taken is
 * classified and kept beside what is applied. Real API over HTTP, real Temporal, signed bodies.
 */
import { gzipSync } from 'node:zlib';
import { signWebhook } from '../../api/webhooks/signature';
import { startHarness, type Harness } from '../helpers/harness';
import { registerNumber } from '../helpers/register';
import { eventually } from '../helpers/wait';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.stop();
});

const WABA_ID = '800000000000001';

/** A business number of its own per test, registered under WABA_ID, so that no test reads another's conversations. */
let numbers = 0;
async function business() {
  const n = ++numbers;
  const b = { phoneNumberId: `10654035224${String(n).padStart(4, '0')}`, display: `1555019${String(n).padStart(4, '0')}` };
  await registerNumber(h.store, { ...b, wabaId: WABA_ID });
  return b;
}

type Business = Awaited<ReturnType<typeof business>>;

async function post(raw: Buffer | string, headers: Record<string, string> = {}) {
  const started = Date.now();
  const response = await fetch(`${h.apiUrl}/webhooks/meta`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-hub-signature-256': signWebhook(raw, h.config.META_APP_SECRET),
      ...headers,
    },
    body: raw,
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as any) : undefined, ms: Date.now() - started };
}

const now = () => String(Math.floor(Date.now() / 1000));

const textMessage = (from: string, id: string, body: string) => ({ from, id, timestamp: now(), type: 'text', text: { body } });

function messagesChange(b: Business, messages: unknown[]) {
  return {
    field: 'messages',
    value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: b.display, phone_number_id: b.phoneNumberId },
      messages,
    },
  };
}

const envelope = (changes: unknown[], entry: Record<string, unknown> = {}) => ({
  object: 'whatsapp_business_account',
  entry: [{ id: WABA_ID, time: Number(now()), ...entry, changes }],
});

async function messagesOf(b: Business, waId: string) {
  const all: any[] = [];
  let cursor: string | undefined;
  do {
    const page = await h.api(
      'GET',
      `/numbers/${b.phoneNumberId}/conversations/${waId}/messages?order=asc&limit=200${cursor ? `&cursor=${cursor}` : ''}`,
    );
    if (page.status === 404) return [];
    all.push(...page.body.messages);
    cursor = page.body.nextCursor;
  } while (cursor);
  return all;
}

/** Until every customer's conversation holds `count` messages; the messages then. */
async function readable(b: Business, customers: string[], count: (waId: string) => number) {
  const out = new Map<string, any[]>();
  for (const waId of customers) {
    out.set(
      waId,
      await eventually(
        () => messagesOf(b, waId),
        (m) => m.length >= count(waId),
        { timeoutMs: 300_000, intervalMs: 500 },
      ),
    );
  }
  return out;
}

const customersOf = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);

test('1,000 messages in one delivery: answered 200 at once (kept in the inbox), then every one readable, once', async () => {
  const b = await business();
  const customers = customersOf('1650561', 20);
  const messages = Array.from({ length: 1000 }, (_, i) =>
    textMessage(customers[i % 20]!, `wamid.bulk-${b.phoneNumberId}-${i}`, `m${i}`),
  );
  const answer = await post(JSON.stringify(envelope([messagesChange(b, messages)])));
  expect(answer.status).toBe(200);
  expect(answer.body).toEqual({ received: 1000, queued: 1000, unrouted: [] });
  // Its time is bench:webhooks' to measure (one delivery of 1,000: time to 200 and to applied), never a test's.
  const stored = await readable(b, customers, () => 50);
  for (const waId of customers) {
    const ids = stored.get(waId)!.map((m) => m.id);
    expect(ids).toHaveLength(50);
    expect(new Set(ids).size).toBe(50);
  }
  console.log(`1,000 messages in one delivery: answered 200 in ${answer.ms} ms`);
});

test('a 3 MB history chunk is answered 200 and all its messages are readable; a body over 3 MB is 413', async () => {
  const b = await business();
  const customers = customersOf('1650562', 10);
  const filler = 'x'.repeat(2_700);
  const threads = customers.map((waId, t) => ({
    id: waId,
    messages: Array.from({ length: 100 }, (_, i) => ({
      from: waId,
      id: `wamid.history-${b.phoneNumberId}-${t}-${i}`,
      timestamp: String(1_700_000_000 + i),
      type: 'text',
      text: { body: `${i} ${filler}` },
      history_context: { status: 'READ' },
    })),
  }));
  const history = {
    field: 'history',
    value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: b.display, phone_number_id: b.phoneNumberId },
      history: [{ metadata: { phase: 0, chunk_order: 1, progress: 100 }, threads }],
    },
  };
  const raw = JSON.stringify(envelope([history]));
  expect(raw.length).toBeGreaterThan(2_800_000);
  expect(raw.length).toBeLessThanOrEqual(3 * 1024 * 1024);
  const answer = await post(raw);
  expect(answer.status).toBe(200);
  expect(answer.body.queued).toBe(1000 + 1); // the messages and the chunk's progress
  const stored = await readable(b, customers, () => 100);
  expect([...stored.values()].flat().every((m) => m.source === 'history')).toBe(true);
  // No onboarding of that number runs: its progress is kept in the quarantine, not lost.
  const kept = await eventually(
    () => h.store.listUnroutedWebhooks(50),
    (w) => w.some((x) => x.classifications.some((c) => c.startsWith('no_workflow:'))),
  );
  expect(kept.length).toBeGreaterThan(0);

  const tooLarge = Buffer.alloc(3 * 1024 * 1024 + 1, ' ');
  const refused = await post(tooLarge);
  expect(refused.status).toBe(413);
  console.log(`3 MB history chunk (${raw.length} bytes): answered 200 in ${answer.ms} ms`);
});

test('per-item salvage: a NUL, a __proto__ key, a junk change and a malformed message lose nothing beside them', async () => {
  const b = await business();
  const [good, beside, other] = customersOf('1650563', 3);
  const body = envelope(
    [
      messagesChange(b, [textMessage(good!, `wamid.salvage-nul-${b.phoneNumberId}`, 'bad\u0000byte')]),
      messagesChange(b, [textMessage(beside!, `wamid.salvage-beside-${b.phoneNumberId}`, 'kept')]),
      'junk',
      { field: 'messages', value: JSON.parse(`{"__proto__": {"polluted": true}, "metadata": {}}`) },
      messagesChange(b, [
        { from: other, id: `wamid.salvage-no-type-${b.phoneNumberId}`, timestamp: now() },
        textMessage(other!, `wamid.salvage-other-${b.phoneNumberId}`, 'also kept'),
      ]),
    ],
    { time: now() }, // entry.time as a string
  );
  const answer = await post(JSON.stringify(body));
  expect(answer.status).toBe(200);
  expect(answer.body.queued).toBe(2);
  expect([...answer.body.unrouted].sort()).toEqual(
    ['change:malformed', 'messages:malformed_message', 'messages:nul_character', 'messages:proto_key'].sort(),
  );
  const stored = await readable(b, [beside!, other!], () => 1);
  expect(stored.get(beside!)!.map((m) => m.content)).toEqual([{ text: { body: 'kept' } }]);
  expect(stored.get(other!)!.map((m) => m.id)).toEqual([`wamid.salvage-other-${b.phoneNumberId}`]);
  expect(await messagesOf(b, good!)).toEqual([]);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  // The whole delivery is kept, with what was set aside classified.
  const [kept] = await h.store.listUnroutedWebhooks(1);
  expect(kept!.classifications).toEqual(answer.body.unrouted);
});

test('shapes Meta printed: an envelope without object and field beside the change are applied; a bare { field, value } (no WABA to check the number against) and object "page" are kept aside', async () => {
  const b = await business();
  const [noObject, bare, fieldOutside, page] = customersOf('1650564', 4);
  const withoutObject = {
    entry: envelope([messagesChange(b, [textMessage(noObject!, `wamid.no-object-${b.phoneNumberId}`, 'a')])]).entry,
  };
  const bareChange = messagesChange(b, [textMessage(bare!, `wamid.bare-${b.phoneNumberId}`, 'b')]);
  const { field, value } = messagesChange(b, [textMessage(fieldOutside!, `wamid.field-outside-${b.phoneNumberId}`, 'c')]);
  const outside = { object: 'whatsapp_business_account', entry: [{ id: WABA_ID, field, changes: [{ value }] }] };
  const pageObject = {
    ...envelope([messagesChange(b, [textMessage(page!, `wamid.page-${b.phoneNumberId}`, 'd')])]),
    object: 'page',
  };

  for (const body of [withoutObject, outside]) {
    const answer = await post(JSON.stringify(body));
    expect(answer).toMatchObject({ status: 200, body: { queued: 1, unrouted: [] } });
  }
  // The dashboard's test button posts a bare change: it names no WABA, so the number is not the entry's.
  const bareAnswer = await post(JSON.stringify(bareChange));
  expect(bareAnswer).toMatchObject({ status: 200, body: { queued: 0, unrouted: [`foreign_number:${b.phoneNumberId}`] } });
  const refusedButKept = await post(JSON.stringify(pageObject));
  expect(refusedButKept).toMatchObject({ status: 200, body: { queued: 0, unrouted: ['object:page'] } });
  const [kept] = await h.store.listUnroutedWebhooks(1);
  expect(kept).toMatchObject({ classifications: ['object:page'], body: pageObject });

  await readable(b, [noObject!, fieldOutside!], () => 1);
  expect(await messagesOf(b, page!)).toEqual([]);
  expect(await messagesOf(b, bare!)).toEqual([]);
});

test('a redelivery of the same delivery applies nothing twice; a gzip body is refused, never inflated before the signature check', async () => {
  const b = await business();
  const [waId] = customersOf('1650565', 1);
  const raw = JSON.stringify(
    envelope([
      messagesChange(
        b,
        Array.from({ length: 5 }, (_, i) => textMessage(waId!, `wamid.redelivered-${b.phoneNumberId}-${i}`, `r${i}`)),
      ),
    ]),
  );
  const answers = [await post(raw), await post(raw), await post(raw)];
  expect(answers.map((a) => [a.status, a.body.queued])).toEqual([
    [200, 5],
    [200, 0],
    [200, 0],
  ]);
  await readable(b, [waId!], () => 5);
  // Drained: nothing of it left to apply, so a fourth copy, late, still changes nothing.
  await eventually(
    () => h.store.inboxDepth(),
    (d) => d.pending === 0,
    { timeoutMs: 120_000 },
  );
  expect((await post(raw)).body.queued).toBe(0);
  const conversation = await h.api('GET', `/numbers/${b.phoneNumberId}/conversations/${waId}`);
  expect(conversation.body.counts.customer).toBe(5);
  expect(await messagesOf(b, waId!)).toHaveLength(5);

  const gzipped = gzipSync(raw);
  expect((await post(gzipped, { 'content-encoding': 'gzip' })).status).toBe(415);

  // The metrics show the inbox: empty now, and how long items waited to be dispatched.
  const metrics = await (await fetch(`${h.apiUrl}/metrics`)).text();
  expect(metrics).toMatch(/^coexist_webhook_inbox_pending 0$/m);
  expect(metrics).toMatch(/^coexist_webhook_dispatch_lag_seconds_count \d+$/m);
});

test('quarantine with replay: an update for an onboarding not started yet is kept, listed, inspected, and replayed once it runs; a second replay queues nothing', async () => {
  const phone = '+15550199777';
  const ops = { authorization: `Bearer ${h.config.OPS_TOKENS[0]!.token}` };
  const opsCall = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${h.apiUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...ops },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: r.status, body: (await r.json()) as any };
  };
  const quality = envelope([
    {
      field: 'phone_number_quality_update',
      value: { display_phone_number: phone.slice(1), event: 'FLAGGED', current_limit: 'TIER_1K' },
    },
  ]);
  const raw = JSON.stringify(quality);
  expect((await post(raw)).body).toEqual({ received: 1, queued: 1, unrouted: [] });
  const classification = `no_workflow:onboarding:${phone}`;
  const listed = await eventually(
    () => opsCall('GET', `/ops/quarantine?classification=${encodeURIComponent(classification)}`),
    (r) => r.body.entries.length === 1,
    { timeoutMs: 120_000 },
  );
  const entry = listed.body.entries[0];
  expect(entry).toMatchObject({ classifications: [classification], deliveryId: expect.any(String) });
  const inspected = await opsCall('GET', `/ops/quarantine/${entry.id}`);
  expect(inspected.body).toMatchObject({ body: quality, bytes: Buffer.byteLength(raw) });

  // The cause fixed: the onboarding runs now.
  expect((await h.api('POST', '/onboardings', { phoneNumber: phone })).status).toBe(201);
  const replayed = await opsCall('POST', '/ops/quarantine/replay', { ids: [entry.id, '999999999'] });
  expect(replayed.body).toEqual({ replayed: [{ id: entry.id, queued: 1 }], notReplayable: ['999999999'] });
  await eventually(
    () => h.store.inboxDepth(),
    (d) => d.pending === 0,
    { timeoutMs: 120_000 },
  );
  const after = await opsCall('GET', `/ops/quarantine?classification=${encodeURIComponent(classification)}`);
  // Taken this time: no new entry; the old one shows its replay.
  expect(after.body.entries).toEqual([{ ...entry, replayedAt: expect.any(String) }]);
  // Taken, so a replay again (or Meta's redelivery) queues nothing.
  expect((await opsCall('POST', '/ops/quarantine/replay', { ids: [entry.id] })).body.replayed).toEqual([
    { id: entry.id, queued: 0 },
  ]);
  expect((await post(raw)).body.queued).toBe(0);
});

test('retention: dispatched deliveries past it are forgotten, quarantined ones keep their bytes', async () => {
  const b = await business();
  const [waId] = customersOf('1650566', 1);
  const raw = JSON.stringify(envelope([messagesChange(b, [textMessage(waId!, `wamid.retention-${b.phoneNumberId}`, 'x')])]));
  expect((await post(raw)).body.queued).toBe(1);
  const aside = { ...envelope([]), object: 'page' };
  expect((await post(JSON.stringify(aside))).body.unrouted).toEqual(['object:page']);
  await readable(b, [waId!], () => 1);
  await eventually(
    () => h.store.inboxDepth(),
    (d) => d.pending === 0,
    { timeoutMs: 120_000 },
  );
  // Retention 0 here (8 days in the dispatcher, past Meta's 7 days of redeliveries).
  expect(await h.store.pruneInbox(0, 100_000)).toBeGreaterThan(0);
  const [kept] = (await h.store.listQuarantine({ classification: 'object:page', limit: 1 })).entries;
  expect((await h.store.quarantineEntry(kept!.id))!.body).toEqual(aside);
  // Its keys went with it: the same delivery now would be queued as new (the workflow still drops it).
  expect((await post(raw)).body.queued).toBe(1);
  await eventually(
    () => h.store.inboxDepth(),
    (d) => d.pending === 0,
    { timeoutMs: 120_000 },
  );
  expect(await messagesOf(b, waId!)).toHaveLength(1);
});

/** A history chunk of one thread: a text and a photo whose media have not arrived (a placeholder). */
function historyChunk(b: Business, waId: string, photoId: string) {
  return {
    field: 'history',
    value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: b.display, phone_number_id: b.phoneNumberId },
      history: [
        {
          metadata: { phase: 0, chunk_order: 1, progress: 100 },
          threads: [
            {
              id: waId,
              messages: [
                { ...textMessage(waId, `${photoId}-text`, 'Here is the receipt'), history_context: { status: 'READ' } },
                { from: waId, id: photoId, timestamp: now(), type: 'media_placeholder', history_context: { status: 'READ' } },
              ],
            },
          ],
        },
      ],
    },
  };
}

/** The follow-up that carries a history photo's media: plain `messages[]` under the field `history`. */
function historyMedia(b: Business, waId: string, photoId: string) {
  return {
    field: 'history',
    value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: b.display, phone_number_id: b.phoneNumberId },
      messages: [
        {
          from: waId,
          id: photoId,
          timestamp: now(),
          type: 'image',
          image: { id: `media-${photoId}`, mime_type: 'image/jpeg', sha256: 'c2hhMjU2' },
        },
      ],
    },
  };
}

test.each(['after', 'before'] as const)(
  'history media arriving %s its chunk end attached to the placeholder, opening no window',
  async (order) => {
    const b = await business();
    const waId = order === 'after' ? '16505630001' : '16505630002';
    const photoId = `wamid.history-photo-${b.phoneNumberId}`;
    const chunk = JSON.stringify(envelope([historyChunk(b, waId, photoId)]));
    const media = JSON.stringify(envelope([historyMedia(b, waId, photoId)]));

    for (const raw of order === 'after' ? [chunk, media] : [media, chunk]) {
      const answer = await post(raw);
      expect(answer.status).toBe(200);
      // The follow-up is understood (no longer `history:malformed`).
      expect(answer.body.unrouted.filter((c: string) => c.startsWith('history:'))).toEqual([]);
    }

    const stored = await eventually(
      () => messagesOf(b, waId),
      (m) => m.length === 2 && m.some((x) => x.id === photoId && x.type === 'image'),
    );
    const photo = stored.find((m) => m.id === photoId);
    expect(photo).toMatchObject({
      source: 'history',
      direction: 'inbound',
      type: 'image',
      content: { image: { id: `media-${photoId}`, mime_type: 'image/jpeg' }, history_context: { status: 'READ' } },
    });
    expect(photo.content).not.toHaveProperty('media_placeholder');
    expect(await h.store.historySummary(b.phoneNumberId)).toEqual({ messages: 2, mediaPlaceholders: 0, mediaAttached: 1 });

    // History is from before onboarding: it opens no window and is no live message.
    const view = await h.api('GET', `/numbers/${b.phoneNumberId}/conversations/${waId}`);
    expect(view.status).toBe(200);
    expect(view.body.customerServiceWindow.status).toBe('closed');
    expect(view.body.counts).toMatchObject({ customer: 0, history: 2 });
  },
);

test('a history media follow-up filed as history:malformed by older code reaches its placeholder when replayed', async () => {
  const b = await business();
  const waId = '16505630003';
  const photoId = `wamid.history-photo-${b.phoneNumberId}`;
  expect((await post(JSON.stringify(envelope([historyChunk(b, waId, photoId)])))).status).toBe(200);
  await eventually(
    () => messagesOf(b, waId),
    (m) => m.some((x) => x.id === photoId && x.type === 'media_placeholder'),
  );
  // Filed as the code before this one did: kept whole, classified, nothing applied.
  const raw = Buffer.from(JSON.stringify(envelope([historyMedia(b, waId, photoId)])));
  await h.store.keepDelivery({ raw, items: [], classifications: ['history:malformed'] });
  const ops = { authorization: `Bearer ${h.config.OPS_TOKENS[0]!.token}`, 'content-type': 'application/json' };
  const listed = (await (
    await fetch(`${h.apiUrl}/ops/quarantine?classification=history%3Amalformed`, { headers: ops })
  ).json()) as any;
  expect(listed.entries).toHaveLength(1);
  const replay = await fetch(`${h.apiUrl}/ops/quarantine/replay`, {
    method: 'POST',
    headers: ops,
    body: JSON.stringify({ ids: [listed.entries[0].id] }),
  });
  expect(replay.status).toBe(200);
  const photo = (await messagesOf(b, waId)).find((m) => m.id === photoId);
  expect(photo).toMatchObject({ type: 'image', content: { image: { id: `media-${photoId}` } } });
});
