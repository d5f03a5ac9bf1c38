/**
 * The message store's behaviour, the same suite against the embedded PGlite (always) and a real
 * PostgreSQL started from the machine's binaries (skipped, saying so, when there are none).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { InvalidMessageQueryError, MessageConflictError, openMessageStore, type MessageStore } from '../../store';
import { createSqlMessageStore } from '../../store/message-store';
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

  test("a number's conversations list newest activity first, paginated, with counts, last direction and window", async () => {
    const a = conversation();
    const b = { ...a, waId: '15550002222' };
    const c = { ...a, waId: '15550003333' };
    const day = 24 * 60 * 60 * 1000;
    await store().recordMessage(inbound(a, 1, { timestamp: 1_000_000 }));
    await store().recordMessage(queuedSend(a, `a-${a.tag}`, { timestamp: 2_000_000 }));
    await store().recordMessage(inbound(b, 2, { id: `wamid.b-${a.tag}`, timestamp: 5_000_000 }));
    await store().recordMessage(queuedSend(c, `c-${a.tag}`, { timestamp: 3_000_000 }));
    const now = 1_000_000 + day + 500_000;
    const first = await store().listConversations({ phoneNumberId: a.phoneNumberId, limit: 2, now });
    expect(first.conversations).toEqual([
      {
        waId: b.waId,
        lastMessageAt: 5_000_000,
        lastDirection: 'inbound',
        inbound: 1,
        outbound: 0,
        windowExpiresAt: 5_000_000 + day,
      },
      { waId: c.waId, lastMessageAt: 3_000_000, lastDirection: 'outbound', inbound: 0, outbound: 1, windowExpiresAt: null },
    ]);
    const second = await store().listConversations({ phoneNumberId: a.phoneNumberId, limit: 2, now, cursor: first.nextCursor });
    expect(second.conversations).toEqual([
      {
        waId: a.waId,
        lastMessageAt: 2_000_000,
        lastDirection: 'outbound',
        inbound: 1,
        outbound: 1,
        windowExpiresAt: 1_000_000 + day,
      },
    ]);
    expect(second.nextCursor).toBeUndefined();
    const open = await store().listConversations({ phoneNumberId: a.phoneNumberId, limit: 10, now, window: 'open' });
    expect(open.conversations.map((x) => x.waId)).toEqual([b.waId]);
    const closed = await store().listConversations({ phoneNumberId: a.phoneNumberId, limit: 10, now, window: 'closed' });
    expect(closed.conversations.map((x) => x.waId)).toEqual([c.waId, a.waId]);
    await expect(
      store().listConversations({ phoneNumberId: a.phoneNumberId, limit: 10, now, cursor: 'nope' }),
    ).rejects.toBeInstanceOf(InvalidMessageQueryError);
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

  test('a 131062 refusal (a username recipient Meta does not take for this message) is shown on the message with its remedy', async () => {
    const c = conversation();
    await store().recordMessage(queuedSend(c, `otp-${c.tag}`, { type: 'template', content: { name: 'login_code' } }));
    await store().recordMessage(queuedSend(c, `other-${c.tag}`, { timestamp: 1_700_000_200_000 }));
    await store().applyStatus(
      status(c, 'failed', 7, {
        clientMessageId: `otp-${c.tag}`,
        errorCode: 131062,
        errorTitle: 'BSUID recipients not supported',
      }),
    );
    await store().applyStatus(status(c, 'failed', 8, { clientMessageId: `other-${c.tag}`, errorCode: 131026 }));
    const [refused, undeliverable] = await all(store(), c);
    expect(refused).toMatchObject({ status: 'failed', errorCode: 131062, reason: 'bsuid_recipient_not_supported' });
    expect(refused!.remedy).toMatch(/phone number/);
    expect(refused!.remedy).toMatch(/authentication templates/);
    // Any other refusal keeps Meta's code and title only.
    expect(undeliverable).toMatchObject({ status: 'failed', errorCode: 131026 });
    expect(undeliverable).not.toHaveProperty('reason');
  });

  test('history media attach to their placeholder in either order, and the placeholder recorded again stays attached', async () => {
    const c = conversation();
    const placeholder = (id: string) =>
      inbound(c, 0, { id, source: 'history', type: 'media_placeholder', content: { history_context: { status: 'READ' } } });
    const media = (id: string) => ({
      phoneNumberId: c.phoneNumberId,
      id,
      type: 'image',
      content: { image: { id: `media-${id}`, mime_type: 'image/jpeg' } },
    });
    const first = `wamid.photo-1-${c.tag}`;
    const second = `wamid.photo-2-${c.tag}`;
    await store().recordMessage(placeholder(first));
    await store().attachHistoryMedia(media(first));
    await store().attachHistoryMedia(media(second));
    expect(await store().historySummary(c.phoneNumberId)).toEqual({ messages: 1, mediaPlaceholders: 0, mediaAttached: 1 });
    await store().recordMessage({ ...placeholder(second), timestamp: 1_700_000_500_000 });
    await store().recordMessage(placeholder(first));
    const stored = await all(store(), c);
    expect(stored.map((m) => [m.id, m.type, m.content])).toEqual(
      [first, second].map((id) => [
        id,
        'image',
        { image: { id: `media-${id}`, mime_type: 'image/jpeg' }, history_context: { status: 'READ' } },
      ]),
    );
    expect(await store().historySummary(c.phoneNumberId)).toEqual({ messages: 2, mediaPlaceholders: 0, mediaAttached: 2 });
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

  test('text is kept as Meta sent it: a lone surrogate and a NUL are read back identical', async () => {
    const c = conversation();
    const content = {
      text: { body: 'lone \ud800 high, \udc00 low, a \u0000 NUL and a pair \ud83d\ude00' },
      'key\ud800': ['\u0000'],
    };
    const record = inbound(c, 1, { content, errorTitle: 'title \u0000 with NUL' });
    await store().recordMessage(record);
    await store().recordMessage(record); // a redelivery is the same message, not a conflict
    const [stored] = await all(store(), c);
    expect(stored!.content).toEqual(content);
    expect(stored!.errorTitle).toBe('title \uFFFD with NUL');
  });

  test('message ids are unique per business number, not across numbers', async () => {
    const a = conversation();
    const b = { ...conversation(), waId: a.waId };
    const id = `wamid.shared-${a.tag}`;
    await store().recordMessage(inbound(a, 1, { id }));
    await store().recordMessage(inbound(b, 1, { id, content: { text: { body: 'other number' } } }));
    await store().applyStatus(status(b, 'read', 9, { wamid: id }));
    expect((await all(store(), a)).map((m) => m.id)).toEqual([id]);
    expect((await all(store(), b)).map((m) => [m.id, m.content])).toEqual([[id, { text: { body: 'other number' } }]]);
  });

  test('a different message under a known id, or an echo reusing an inbound id, is a conflict; history of the same message is not', async () => {
    const c = conversation();
    const id = `wamid.known-${c.tag}`;
    const first = inbound(c, 1, { id, content: { text: { body: 'first' } } });
    await store().recordMessage(first);
    await expect(store().recordMessage(inbound(c, 1, { id, content: { text: { body: 'second' } } }))).rejects.toThrow(
      MessageConflictError,
    );
    await expect(
      store().recordMessage(inbound(c, 1, { id, direction: 'outbound', source: 'app_echo', content: first.content })),
    ).rejects.toThrow(MessageConflictError);
    // The same message again through history (with history_context beside its text): no conflict.
    await store().recordMessage(
      inbound(c, 1, { id, source: 'history', content: { text: { body: 'first' }, history_context: { status: 'READ' } } }),
    );
    expect(await all(store(), c)).toEqual([first]);
  });

  test("an echo's statuses show, also when they came first; an inbound message stays received", async () => {
    const c = conversation();
    const echo = (i: number) => inbound(c, i, { direction: 'outbound', source: 'app_echo', id: `wamid.echo-${c.tag}-${i}` });
    await store().applyStatus(status(c, 'delivered', 5, { wamid: echo(1).id }));
    expect(await store().listOrphanStatuses({ ...c, limit: 10 })).toEqual([
      expect.objectContaining({ wamid: echo(1).id, status: 'delivered', waId: c.waId, receivedAt: expect.any(String) }),
    ]);
    await store().recordMessage(echo(1));
    await store().recordMessage(echo(2));
    await store().applyStatus(status(c, 'sent', 6, { wamid: echo(2).id }));
    await store().applyStatus(status(c, 'read', 7, { wamid: echo(2).id }));
    await store().recordMessage(echo(2)); // re-recorded: received never moves it back
    expect((await all(store(), c)).map((m) => [m.status, m.statusAt])).toEqual([
      ['delivered', 5],
      ['read', 7],
    ]);
    expect(await store().listOrphanStatuses({ ...c, limit: 10 })).toEqual([]);
  });

  test('parked effects are kept once per activity execution, newest first, with their params as given', async () => {
    const tag = conversation().tag;
    const key = (i: number) => `conversation:${tag}/run/${i}`;
    const params = { id: 'wamid.x', content: { text: { body: 'lone \ud800' } } };
    const before = await store().countParkedEffects();
    for (const i of [1, 1, 2, 3]) {
      await store().parkEffect({
        key: key(i),
        workflowId: `w-${tag}`,
        action: 'recordMessage',
        reason: 'failed',
        error: `e${i}`,
        attempts: 5,
        params,
      });
    }
    expect(await store().countParkedEffects()).toBe(before + 3);
    const first = await store().listParkedEffects({ limit: 2 });
    expect(first.parked.map((p) => p.error)).toEqual(['e3', 'e2']);
    expect(first.parked[0]).toMatchObject({ workflowId: `w-${tag}`, reason: 'failed', attempts: 5, params });
    const second = await store().listParkedEffects({ limit: 2, cursor: first.nextCursor! });
    expect(second.parked[0]!.error).toBe('e1');
    await expect(store().listParkedEffects({ limit: 2, cursor: 'bm90LWEtY3Vyc29y' })).rejects.toThrow(InvalidMessageQueryError);
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

  test('the customer directory: linked identifiers, a changed number taken from a stranger, the newest of each kind first', async () => {
    const { phoneNumberId: pn } = conversation();
    const user = 'US.13491208655302741918';
    expect(await store().resolveCustomer(pn, { userId: user, username: 'ana' }, 1)).toBe(user);
    expect(await store().resolveCustomer(pn, { waId: '16505551234', userId: user }, 2)).toBe(user);
    expect(await store().resolveCustomer(pn, { waId: '16505559999' }, 3)).toBe('16505559999');
    await store().recordIdentifierChange(pn, user, { waId: '16505559999' }, 4);
    expect(await store().findCustomer(pn, '16505559999')).toEqual({
      key: user,
      waId: '16505559999',
      userId: user,
      username: 'ana',
    });
    expect(await store().findCustomer(pn, '16505551234')).toMatchObject({ key: user, waId: '16505559999' });
    await store().recordIdentifierChange(pn, 'someone-else', { waId: '16505559999' }, 3);
    expect((await store().findCustomer(pn, '16505559999'))?.key).toBe(user);
    expect(await store().findCustomer(pn, 'US.0')).toBeUndefined();
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

describe('message store written by older code', () => {
  test('ids become unique per number and an echo already stored takes its statuses', async () => {
    const db = await PGlite.create();
    // The table as the store created it before ids were per number.
    await db.exec(`
      CREATE TABLE messages (
        seq bigint GENERATED ALWAYS AS IDENTITY, id text PRIMARY KEY, wamid text, client_message_id text,
        phone_number_id text NOT NULL, wa_id text NOT NULL, direction text NOT NULL, source text NOT NULL,
        type text NOT NULL, content jsonb NOT NULL, ts bigint NOT NULL, status text NOT NULL,
        status_rank smallint NOT NULL, status_at bigint, error_code integer, error_title text,
        pricing jsonb NOT NULL, notice jsonb);
      CREATE UNIQUE INDEX messages_wamid ON messages (wamid);
      INSERT INTO messages (id, wamid, phone_number_id, wa_id, direction, source, type, content, ts, status, status_rank, pricing)
      VALUES ('wamid.old-echo', 'wamid.old-echo', '111', '15550001111', 'outbound', 'app_echo', 'text',
              '{"text":{"body":"old"}}', 1, 'received', 100, '{"billable":false,"type":"business_app","basis":"predicted"}');`);
    const port = {
      query: async <T>(text: string, params?: unknown[]) =>
        params ? db.query<T>(text, params) : { rows: ((await db.exec(text)).at(-1)?.rows ?? []) as T[] },
    };
    const store = await createSqlMessageStore(port, () => db.close());
    // Opening it again (worker and API both do) finds it migrated.
    await createSqlMessageStore(port, async () => {});
    const c = { phoneNumberId: '111', waId: '15550001111', tag: 'old' };
    await store.applyStatus(status(c, 'read', 3, { wamid: 'wamid.old-echo' }));
    await store.recordMessage(inbound({ ...c, phoneNumberId: '222' }, 1, { id: 'wamid.old-echo' }));
    expect((await all(store, c)).map((m) => [m.id, m.status])).toEqual([['wamid.old-echo', 'read']]);
    expect((await all(store, { ...c, phoneNumberId: '222' })).map((m) => m.id)).toEqual(['wamid.old-echo']);
    await store.close();
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
