/**
 * The message store's behaviour, the same suite against the embedded PGlite (always) and a real
 * PostgreSQL started from the machine's binaries (skipped, saying so, when there are none).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidMessageQueryError, openMessageStore, type MessageStore } from '../../store';
import { eventually } from '../helpers/wait';
import type { MessageRecord, MessageStatusUpdate, PricingClass } from '../../machines/conversation/messages';
import { findPostgres, startPostgres, type TestPostgres } from '../helpers/postgres';

let unique = 0;
/** A conversation of its own per test, so one store serves the whole suite. */
function conversation() {
  const tag = `${process.pid}-${++unique}-${Math.random().toString(36).slice(2, 8)}`;
  return { phoneNumberId: `pn-${tag}`, waId: '15550001111', tag };
}
type Conversation = ReturnType<typeof conversation>;

const predicted: PricingClass = { billable: true, type: 'regular', category: 'marketing', basis: 'predicted' };

function inbound(c: Conversation, i: number, over: Partial<MessageRecord> = {}): MessageRecord {
  return {
    id: `wamid.in-${c.tag}-${i}`,
    phoneNumberId: c.phoneNumberId,
    waId: c.waId,
    direction: 'inbound',
    source: 'customer',
    type: 'text',
    content: { body: `hello ${i}` },
    timestamp: 1_700_000_000_000 + i * 1000,
    status: 'received',
    pricing: { billable: false, type: 'inbound', basis: 'predicted' },
    ...over,
  };
}

function queuedSend(c: Conversation, clientMessageId: string, over: Partial<MessageRecord> = {}): MessageRecord {
  return {
    id: `client:${clientMessageId}`,
    clientMessageId,
    phoneNumberId: c.phoneNumberId,
    waId: c.waId,
    direction: 'outbound',
    source: 'platform',
    type: 'text',
    content: { body: 'your order shipped' },
    timestamp: 1_700_000_100_000,
    status: 'queued',
    pricing: predicted,
    ...over,
  };
}

function status(
  c: Conversation,
  s: MessageStatusUpdate['status'],
  at: number,
  over: Partial<MessageStatusUpdate> = {},
): MessageStatusUpdate {
  return { phoneNumberId: c.phoneNumberId, waId: c.waId, status: s, timestamp: at, ...over };
}

async function all(store: MessageStore, c: Conversation, order: 'asc' | 'desc' = 'asc'): Promise<MessageRecord[]> {
  const out: MessageRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listMessages({ ...c, limit: 200, cursor, order });
    out.push(...page.messages);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** Deterministic shuffles, so a failing order can be replayed. */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function behaviour(store: () => MessageStore) {
  test('recording a message again (redelivery, retry, at once) keeps one, unchanged', async () => {
    const c = conversation();
    const m = inbound(c, 1);
    await store().recordMessage(m);
    await Promise.all(Array.from({ length: 5 }, () => store().recordMessage({ ...m, content: { body: 'redelivered' } })));
    expect(await all(store(), c)).toEqual([m]);
  });

  test('recording a send again never moves its status back', async () => {
    const c = conversation();
    const send = queuedSend(c, `c-${c.tag}`);
    await store().recordMessage(send);
    await store().applyStatus(status(c, 'accepted', 2, { clientMessageId: send.clientMessageId, wamid: `wamid.out-${c.tag}` }));
    await store().recordMessage(send);
    const [stored] = await all(store(), c);
    expect(stored).toMatchObject({ id: send.id, status: 'accepted', statusAt: 2, wamid: `wamid.out-${c.tag}` });
  });

  test('a status moves only forward; duplicates are no-ops; failed ends it; received never changes', async () => {
    const c = conversation();
    const wamid = `wamid.out-${c.tag}`;
    await store().recordMessage(queuedSend(c, `c-${c.tag}`, { id: wamid, wamid: undefined, status: 'accepted' }));
    for (const [s, at] of [
      ['delivered', 20],
      ['sent', 10],
      ['delivered', 21],
      ['read', 30],
      ['delivered', 22],
      ['read', 31],
    ] as const) {
      await store().applyStatus(status(c, s, at, { wamid }));
    }
    expect((await all(store(), c))[0]).toMatchObject({ status: 'read', statusAt: 30 });

    await store().applyStatus(status(c, 'failed', 40, { wamid, errorCode: 131_047, errorTitle: 'Re-engagement message' }));
    await store().applyStatus(status(c, 'played', 50, { wamid }));
    expect((await all(store(), c))[0]).toMatchObject({
      status: 'failed',
      statusAt: 40,
      errorCode: 131_047,
      errorTitle: 'Re-engagement message',
    });

    const received = inbound(c, 2);
    await store().recordMessage(received);
    await store().applyStatus(status(c, 'read', 60, { wamid: received.id }));
    expect((await all(store(), c)).find((m) => m.id === received.id)).toEqual(received);
  });

  test('the outcome does not depend on the order of the record and its statuses', async () => {
    const outcomes = [];
    for (let seed = 1; seed <= 12; seed++) {
      const c = conversation();
      const clientMessageId = `c-${c.tag}`;
      const wamid = `wamid.out-${c.tag}`;
      const meta: PricingClass = { billable: false, type: 'free_customer_service', category: 'service', basis: 'meta' };
      // Meta's statuses name the wamid only; the send result links it to our client id.
      const steps: (() => Promise<void>)[] = [
        () => store().recordMessage(queuedSend(c, clientMessageId)),
        () => store().applyStatus(status(c, 'accepted', 1, { clientMessageId, wamid })),
        () => store().applyStatus(status(c, 'sent', 2, { wamid, pricing: meta })),
        () => store().applyStatus(status(c, 'delivered', 3, { wamid, pricing: meta })),
        () => store().applyStatus(status(c, 'delivered', 3, { wamid, pricing: meta })),
        () => store().applyStatus(status(c, 'read', 4, { wamid })),
      ];
      for (const step of shuffled(steps, seed)) await step();
      const messages = await all(store(), c);
      expect(messages).toHaveLength(1);
      const { phoneNumberId: _phoneNumberId, ...rest } = messages[0]!;
      outcomes.push({
        ...rest,
        id: rest.id.replace(c.tag, ''),
        wamid: rest.wamid?.replace(c.tag, ''),
        clientMessageId: rest.clientMessageId?.replace(c.tag, ''),
      });
    }
    expect(outcomes[0]).toEqual({
      ...queuedSend(conversation(), ''),
      phoneNumberId: undefined,
      id: 'client:c-',
      clientMessageId: 'c-',
      wamid: 'wamid.out-',
      status: 'read',
      statusAt: 4,
      pricing: { billable: false, type: 'free_customer_service', category: 'service', basis: 'meta' },
    });
    for (const outcome of outcomes) expect(outcome).toEqual(outcomes[0]);
  });

  test('a status that arrives before its message is applied when the message is recorded', async () => {
    const c = conversation();
    const wamid = `wamid.out-${c.tag}`;
    await store().applyStatus(status(c, 'sent', 5, { wamid }));
    await store().applyStatus(status(c, 'delivered', 6, { clientMessageId: `c1-${c.tag}` }));
    expect(await all(store(), c)).toEqual([]);

    await store().recordMessage(queuedSend(c, `c0-${c.tag}`, { id: wamid, clientMessageId: undefined, status: 'accepted' }));
    await store().recordMessage(queuedSend(c, `c1-${c.tag}`, { timestamp: 1_700_000_200_000 }));
    const [byWamid, byClientId] = await all(store(), c);
    expect(byWamid).toMatchObject({ id: wamid, status: 'sent', statusAt: 5 });
    expect(byClientId).toMatchObject({ id: `client:c1-${c.tag}`, status: 'delivered', statusAt: 6 });
    // Applied once: applying it again changes nothing.
    await store().applyStatus(status(c, 'sent', 5, { wamid }));
    expect((await all(store(), c))[0]).toEqual(byWamid);
  });

  test('the queued record learns its wamid, and statuses naming only the wamid then find it', async () => {
    const c = conversation();
    const send = queuedSend(c, `c-${c.tag}`);
    const wamid = `wamid.out-${c.tag}`;
    await store().recordMessage(send);
    await store().applyStatus(status(c, 'delivered', 7, { wamid })); // before the send result: kept
    await store().applyStatus(status(c, 'accepted', 5, { clientMessageId: send.clientMessageId, wamid }));
    expect(await all(store(), c)).toEqual([{ ...send, wamid, status: 'delivered', statusAt: 7 }]);
    await store().applyStatus(status(c, 'read', 8, { wamid }));
    expect((await all(store(), c))[0]).toMatchObject({ id: send.id, wamid, status: 'read' });
  });

  test("Meta's pricing replaces the prediction and stays", async () => {
    const c = conversation();
    const send = queuedSend(c, `c-${c.tag}`);
    const wamid = `wamid.out-${c.tag}`;
    await store().recordMessage(send);
    await store().applyStatus(status(c, 'accepted', 1, { clientMessageId: send.clientMessageId, wamid }));
    expect((await all(store(), c))[0]!.pricing).toEqual(predicted);
    await store().applyStatus(
      status(c, 'sent', 2, {
        wamid,
        pricing: { billable: false, type: 'free_entry_point', category: 'service', basis: 'predicted' },
      }),
    );
    const meta = { billable: false, type: 'free_entry_point', category: 'service', basis: 'meta' };
    expect((await all(store(), c))[0]!.pricing).toEqual(meta);
    await store().applyStatus(status(c, 'read', 3, { wamid }));
    await store().recordMessage(send);
    expect((await all(store(), c))[0]).toMatchObject({ status: 'read', pricing: meta });
  });

  test('pages cover the conversation without gaps or repeats, even under equal timestamps', async () => {
    const c = conversation();
    const other = { ...c, waId: '15550002222' };
    // 23 messages, five to a timestamp, recorded out of timestamp order; another customer's between.
    const messages = Array.from({ length: 23 }, (_, i) =>
      inbound(c, i, { timestamp: 1_700_000_000_000 + Math.floor(i / 5) * 1000 }),
    );
    for (const m of shuffled(messages, 7)) {
      await store().recordMessage(m);
      await store().recordMessage(inbound(other, 1000 + messages.indexOf(m)));
    }
    const insertion = shuffled(messages, 7).map((m) => m.id);
    const expected = [...messages]
      .sort((a, b) => a.timestamp - b.timestamp || insertion.indexOf(a.id) - insertion.indexOf(b.id))
      .map((m) => m.id);

    for (const order of ['asc', 'desc'] as const) {
      for (const limit of [1, 4, 5, 7, 23, 200]) {
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await store().listMessages({ ...c, limit, cursor, order });
          expect(page.messages.length).toBeLessThanOrEqual(limit);
          seen.push(...page.messages.map((m) => m.id));
          cursor = page.nextCursor;
          pages++;
        } while (cursor);
        expect(seen).toEqual(order === 'asc' ? expected : [...expected].reverse());
        expect(pages).toBe(Math.max(1, Math.ceil(23 / limit)));
      }
    }
    expect((await store().listMessages({ ...c, limit: 3 })).messages.map((m) => m.id)).toEqual(expected.slice(-3).reverse());
  });

  test('1 000 messages recorded concurrently, each twice, give 1 000 rows', async () => {
    const c = conversation();
    const messages = Array.from({ length: 1000 }, (_, i) => inbound(c, i, { timestamp: 1_700_000_000_000 + (i % 10) }));
    await Promise.all([...messages, ...messages].map((m) => store().recordMessage(m)));
    const stored = await all(store(), c);
    expect(stored).toHaveLength(1000);
    expect(new Set(stored.map((m) => m.id)).size).toBe(1000);
  });

  test('a bad cursor or limit is an InvalidMessageQueryError naming the field', async () => {
    const c = conversation();
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const cursor of ['not a cursor!', b64({ ts: 1 }), b64([1, 'x']), b64([1.5, '3']), '']) {
      const err = await store()
        .listMessages({ ...c, limit: 10, cursor })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidMessageQueryError);
      expect(err).toMatchObject({ field: 'cursor', message: expect.stringMatching(/cursor/) });
    }
    for (const limit of [0, 201, 1.5, Number.NaN]) {
      await expect(store().listMessages({ ...c, limit })).rejects.toMatchObject({
        name: 'InvalidMessageQueryError',
        field: 'limit',
      });
    }
  });

  test('unrouted webhooks are kept whole with their classifications, newest first', async () => {
    const tag = `t${Math.random()}`;
    await store().keepUnroutedWebhook({ classifications: ['field:first'], body: { tag, n: 1 } });
    await store().keepUnroutedWebhook({
      classifications: ['field:second', 'statuses:unknown_status:x'],
      body: { tag, n: 2, nested: { a: [1] } },
    });
    const [newest, older] = await store().listUnroutedWebhooks(2);
    expect(newest).toMatchObject({
      classifications: ['field:second', 'statuses:unknown_status:x'],
      body: { tag, n: 2, nested: { a: [1] } },
    });
    expect(older).toMatchObject({ classifications: ['field:first'], body: { tag, n: 1 } });
    expect(Date.parse(newest!.receivedAt)).not.toBeNaN();
  });

  const DAY = 24 * 3_600_000;
  const MINUTE = 60_000;

  test('an idempotency key is claimed once, keeps its answer byte for byte, and holds its fingerprint', async () => {
    const key = `backend:k-${Math.random()}`;
    const claims = await Promise.all(Array.from({ length: 4 }, () => store().claimIdempotencyKey(key, 'f1', DAY, MINUTE)));
    expect(claims.filter((c) => c.claimed)).toHaveLength(1);
    // Claimed, not yet answered: the others are told so.
    expect(claims.filter((c) => !c.claimed)).toEqual(new Array(3).fill({ claimed: false, fingerprint: 'f1' }));
    const body = '{"z":1,"a":"ü"}';
    await store().keepIdempotentAnswer(key, { status: 201, body });
    expect(await store().claimIdempotencyKey(key, 'f2', DAY, MINUTE)).toEqual({
      claimed: false,
      fingerprint: 'f1',
      answer: { status: 201, body },
    });
    // Released only while unanswered: an answered key stays.
    await store().releaseIdempotencyKey(key);
    expect(await store().claimIdempotencyKey(key, 'f1', DAY, MINUTE)).toMatchObject({ claimed: false, answer: { status: 201 } });
  });

  test('a released key, an expired key and a claim past its lease are claimed anew', async () => {
    const released = `backend:r-${Math.random()}`;
    await store().claimIdempotencyKey(released, 'f1', DAY, MINUTE);
    await store().releaseIdempotencyKey(released);
    expect(await store().claimIdempotencyKey(released, 'f2', DAY, MINUTE)).toEqual({ claimed: true });

    const expiring = `backend:e-${Math.random()}`;
    await store().claimIdempotencyKey(expiring, 'f1', 1, MINUTE);
    await store().keepIdempotentAnswer(expiring, { status: 200, body: '{}' });
    await eventually(
      () => store().claimIdempotencyKey(expiring, 'f2', DAY, MINUTE),
      (c) => c.claimed,
    );
    expect(await store().claimIdempotencyKey(expiring, 'f2', DAY, MINUTE)).toEqual({ claimed: false, fingerprint: 'f2' });

    const abandoned = `backend:a-${Math.random()}`;
    await store().claimIdempotencyKey(abandoned, 'f1', DAY, 1);
    await eventually(
      () => store().claimIdempotencyKey(abandoned, 'f1', DAY, 1),
      (c) => c.claimed,
    );
  });
}

describe('message store on in-memory PGlite', () => {
  let store: MessageStore;
  beforeAll(async () => {
    store = await openMessageStore({ DATABASE_URL: 'memory://', TEMPORAL_DATA_DIR: 'unused' });
  });
  afterAll(() => store?.close());
  behaviour(() => store);
});

describe('message store on embedded PGlite in TEMPORAL_DATA_DIR (npm start)', () => {
  test('what was recorded is there after a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'coexist-data-'));
    try {
      const c = conversation();
      const first = await openMessageStore({ TEMPORAL_DATA_DIR: dataDir });
      // One process at a time: PGlite would not notice a second one writing the same files.
      await expect(openMessageStore({ TEMPORAL_DATA_DIR: dataDir })).rejects.toThrow(
        /is open in process \d+; .*need DATABASE_URL/,
      );
      await first.recordMessage(inbound(c, 1));
      await first.applyStatus(status(c, 'sent', 1, { wamid: `wamid.early-${c.tag}` }));
      await first.close();
      const second = await openMessageStore({ TEMPORAL_DATA_DIR: dataDir });
      expect(await all(second, c)).toEqual([inbound(c, 1)]);
      await second.recordMessage(
        queuedSend(c, 'x', { id: `wamid.early-${c.tag}`, clientMessageId: undefined, status: 'accepted' }),
      );
      expect((await all(second, c))[1]).toMatchObject({ status: 'sent' });
      await second.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

const postgres = findPostgres();
if ('missing' in postgres) {
  console.warn(`message store on PostgreSQL SKIPPED: ${postgres.missing}`);
}
('binDir' in postgres ? describe : describe.skip)('message store on PostgreSQL', () => {
  let server: TestPostgres;
  let store: MessageStore;
  beforeAll(async () => {
    server = await startPostgres((postgres as { binDir: string }).binDir);
    // Worker and API open it at the same time: creating the schema twice at once must work.
    const [a, b] = await Promise.all(
      [1, 2].map(() => openMessageStore({ DATABASE_URL: server.url, TEMPORAL_DATA_DIR: 'unused' })),
    );
    await b!.close();
    store = a!;
  });
  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });
  behaviour(() => store);
});
