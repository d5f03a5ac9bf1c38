/**
 * Customer identity (store/customers.ts, api/webhooks/customer-routing.ts): which conversation a
 * payload naming a customer by phone, business-scoped user id, parent id or username goes to.
 * The directory runs on the embedded PGlite, the same SQL as on PostgreSQL.
 */
import { customerIds, messagesChanges, echoChanges, historyMessageChanges } from '../../api/webhooks/conversation-changes';
import { routeToCustomers } from '../../api/webhooks/customer-routing';
import { recipientOf } from '../../activities/customer-address';
import { openMessageStore, type MessageStore } from '../../store';

let store: MessageStore;
let n = 0;
/** A business number of its own per test. */
const number = () => String(100_000_000_000_000 + ++n);

beforeAll(async () => {
  store = await openMessageStore({ DATABASE_URL: 'memory://', TEMPORAL_DATA_DIR: '/nonexistent' });
});
afterAll(() => store?.close());

const ANA = 'US.13491208655302741918';
const ANA_PARENT = 'US.ENT.11815799212886844830';

describe('the customer directory', () => {
  it('keys a customer by the first identifier it was known by, and keeps that key when more are linked', async () => {
    const pn = number();
    expect(await store.resolveCustomer(pn, { userId: ANA, username: 'ana' }, 1)).toBe(ANA);
    expect(await store.resolveCustomer(pn, { waId: '16505551234', userId: ANA }, 2)).toBe(ANA);
    // Known by phone alone now (a failed status of a send to the phone carries no user id).
    expect(await store.resolveCustomer(pn, { waId: '16505551234' }, 3)).toBe(ANA);
    expect(await store.findCustomer(pn, '16505551234')).toEqual({ key: ANA, waId: '16505551234', userId: ANA, username: 'ana' });
  });

  it('a customer first known by phone keeps the wa_id key when a username appears', async () => {
    const pn = number();
    expect(await store.resolveCustomer(pn, { waId: '16505551234' }, 1)).toBe('16505551234');
    expect(await store.resolveCustomer(pn, { waId: '16505551234', userId: ANA, parentUserId: ANA_PARENT }, 2)).toBe(
      '16505551234',
    );
    expect(await store.resolveCustomer(pn, { userId: ANA }, 3)).toBe('16505551234');
    expect(await store.resolveCustomer(pn, { parentUserId: ANA_PARENT }, 4)).toBe('16505551234');
  });

  it('keeps the newest username, and a late payload never brings an older one back', async () => {
    const pn = number();
    await store.resolveCustomer(pn, { userId: ANA, username: 'ana' }, 10);
    await store.resolveCustomer(pn, { userId: ANA, username: 'ana.cooks' }, 20);
    await store.resolveCustomer(pn, { userId: ANA, username: 'ana' }, 15);
    await store.resolveCustomer(pn, { userId: ANA }, 30);
    expect((await store.findCustomer(pn, ANA))?.username).toBe('ana.cooks');
  });

  it('two customers known apart become one when a payload links them: the one known first keeps its key', async () => {
    const pn = number();
    expect(await store.resolveCustomer(pn, { waId: '16505551234' }, 1)).toBe('16505551234');
    expect(await store.resolveCustomer(pn, { userId: ANA }, 2)).toBe(ANA);
    expect(await store.resolveCustomer(pn, { waId: '16505551234', userId: ANA }, 3)).toBe('16505551234');
    expect(await store.resolveCustomer(pn, { userId: ANA }, 4)).toBe('16505551234');
    expect(await store.findCustomer(pn, ANA)).toMatchObject({ key: '16505551234', userId: ANA });
  });

  it('numbers are apart: the same BSUID on another number is another customer', async () => {
    const [a, b] = [number(), number()];
    await store.resolveCustomer(a, { waId: '16505551234', userId: ANA }, 1);
    expect(await store.resolveCustomer(b, { userId: ANA }, 2)).toBe(ANA);
    expect(await store.findCustomer(b, '16505551234')).toBeUndefined();
  });

  it('agrees with itself when many resolve one new customer at once', async () => {
    const pn = number();
    const keys = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        store.resolveCustomer(pn, i % 2 ? { userId: ANA } : { userId: ANA, waId: '1650555' + '1234' }, 5),
      ),
    );
    const final = await store.resolveCustomer(pn, { userId: ANA }, 6);
    expect(await store.resolveCustomer(pn, { waId: '16505551234' }, 7)).toBe(final);
    expect(keys.at(-1)).toBe(final);
  });
});

describe('routing a webhook to its customer', () => {
  const metadata = { display_phone_number: '15550783881', phone_number_id: '100000000000001' };

  it('reads the identifiers Meta gives, an empty phone field being none', () => {
    expect(customerIds('', ANA, undefined, { user_id: ANA, profile: { username: 'ana' } })).toEqual({
      userId: ANA,
      username: 'ana',
    });
    expect(customerIds('+1 650 555 1234', undefined, ANA_PARENT)).toEqual({ waId: '16505551234', parentUserId: ANA_PARENT });
    expect(customerIds('', 'not a bsuid', undefined)).toEqual({});
  });

  it('routes a message with `from: ""` by from_user_id, and a status with `recipient_id: ""` by recipient_user_id', async () => {
    const unrouted: string[] = [];
    const deliveries = messagesChanges(
      {
        metadata,
        contacts: [{ user_id: ANA, profile: { name: 'Ana', username: 'ana' } }],
        messages: [{ from: '', from_user_id: ANA, id: 'wamid.1', timestamp: 1_750_000_000, type: 'text', text: { body: 'Hi' } }],
        statuses: [{ id: 'wamid.2', status: 'read', timestamp: 1_750_000_001, recipient_id: '', recipient_user_id: ANA }],
      },
      1_750_000_002_000,
      unrouted,
    );
    expect(unrouted).toEqual([]);
    expect(deliveries.map((d) => [d.workflowId, d.customer])).toEqual([
      [`conversation:100000000000001:${ANA}`, { userId: ANA, username: 'ana' }],
      [`conversation:100000000000001:${ANA}`, { userId: ANA, username: 'ana' }],
    ]);
  });

  it('sends a later payload naming the customer only by phone to the conversation their BSUID began', async () => {
    const pn = number();
    const unrouted: string[] = [];
    const m = { ...metadata, phone_number_id: pn };
    const first = messagesChanges(
      { metadata: m, messages: [{ from: '', from_user_id: ANA, id: 'wamid.a', timestamp: 1, type: 'text' }] },
      1,
      unrouted,
    );
    const linking = messagesChanges(
      {
        metadata: m,
        contacts: [{ wa_id: '16505551234', user_id: ANA }],
        messages: [{ from: '16505551234', from_user_id: ANA, id: 'wamid.b', timestamp: 2, type: 'text' }],
      },
      2,
      unrouted,
    );
    const byPhone = echoChanges(
      { metadata: m, message_echoes: [{ from: '15550783881', to: '16505551234', id: 'wamid.c', timestamp: 3, type: 'text' }] },
      3,
      unrouted,
    );
    const routed = await routeToCustomers(store, [...first, ...linking, ...byPhone], 3);
    expect(new Set(routed.map((d) => d.workflowId))).toEqual(new Set([`conversation:${pn}:${ANA}`]));
    expect(routed.map((d) => d.conversation.waId)).toEqual([ANA, ANA, ANA]);
  });

  it('files a history thread named by BSUID, and one named by phone that carries the BSUID, in the one conversation', async () => {
    const pn = number();
    const unrouted: string[] = [];
    const m = { ...metadata, phone_number_id: pn };
    // Hidden phone: the thread is the BSUID, the customer's messages have `from: ""`, the business's `to_user_id`.
    const byUserId = historyMessageChanges(
      {
        metadata: m,
        history: [
          {
            metadata: { phase: 0, chunk_order: 1, progress: 50 },
            threads: [
              {
                id: ANA,
                messages: [
                  { from: '', from_user_id: ANA, id: 'wamid.h1', timestamp: 10, type: 'text', text: { body: 'Hi' } },
                  { from: '15550783881', to: '', to_user_id: ANA, id: 'wamid.h2', timestamp: 11, type: 'text' },
                ],
              },
            ],
          },
        ],
      },
      20_000,
      unrouted,
    );
    // A later chunk, the phone shared: the thread is the phone, its messages link it to the BSUID.
    const byPhone = historyMessageChanges(
      {
        metadata: m,
        history: [
          {
            metadata: { phase: 1, chunk_order: 1, progress: 100 },
            threads: [
              {
                id: '16505551234',
                messages: [{ from: '16505551234', from_user_id: ANA, id: 'wamid.h3', timestamp: 12, type: 'text' }],
              },
            ],
          },
        ],
      },
      21_000,
      unrouted,
    );
    expect(unrouted).toEqual([]);
    expect(byUserId.map((d) => d.customer)).toEqual([{ userId: ANA }, { userId: ANA }]);
    expect(byUserId.map((d) => (d.event as { message: { fromBusiness: boolean } }).message.fromBusiness)).toEqual([false, true]);
    const routed = await routeToCustomers(store, [...byUserId, ...byPhone], 21_000);
    expect(routed.map((d) => d.workflowId)).toEqual(Array(3).fill(`conversation:${pn}:${ANA}`));
    expect(await store.findCustomer(pn, '16505551234')).toMatchObject({ key: ANA, waId: '16505551234', userId: ANA });
  });

  it('Meta’s notice that a customer changed BSUID keeps them in their conversation, and sends go to the new BSUID', async () => {
    const pn = number();
    const unrouted: string[] = [];
    const m = { ...metadata, phone_number_id: pn };
    const ANA_NEW = 'US.77710000000000000001';
    const write = (ids: { from_user_id: string }, id: string, at: number) =>
      messagesChanges({ metadata: m, messages: [{ from: '', ...ids, id, timestamp: at, type: 'text' }] }, at * 1000, unrouted);
    const before = write({ from_user_id: ANA }, 'wamid.u1', 1);
    // A system message has no contacts[]: the old BSUID names the customer, `system.user_id` the new one.
    const notice = messagesChanges(
      {
        metadata: m,
        messages: [
          {
            from: '',
            from_user_id: ANA,
            id: 'wamid.u2',
            timestamp: 2,
            type: 'system',
            system: { body: `User Ana changed from ${ANA} to ${ANA_NEW}`, user_id: ANA_NEW, type: 'user_changed_user_id' },
          },
        ],
      },
      2_000,
      unrouted,
    );
    expect(notice[0]!.changedTo).toEqual({ userId: ANA_NEW });
    const after = write({ from_user_id: ANA_NEW }, 'wamid.u3', 3);
    // In one delivery, in Meta's order: the message from the new BSUID follows the notice.
    const routed = await routeToCustomers(store, [...before, ...notice, ...after], 3_000);
    expect(routed.map((d) => d.workflowId)).toEqual(Array(3).fill(`conversation:${pn}:${ANA}`));
    expect(unrouted).toEqual([]);
    expect(await store.findCustomer(pn, ANA_NEW)).toMatchObject({ key: ANA, userId: ANA_NEW });
    expect(await recipientOf(store, pn, ANA)).toEqual({ recipient: ANA_NEW });
  });

  it('Meta’s `user_changed_number` moves the new number to the customer: later messages join, sends go `to` it', async () => {
    const pn = number();
    const unrouted: string[] = [];
    const m = { ...metadata, phone_number_id: pn };
    const first = messagesChanges(
      { metadata: m, messages: [{ from: '16505551234', id: 'wamid.n1', timestamp: 1, type: 'text' }] },
      1_000,
      unrouted,
    );
    await routeToCustomers(store, first, 1_000);
    // The new number wrote once before the notice, as a stranger: from the notice on it is this customer's.
    await routeToCustomers(
      store,
      messagesChanges(
        { metadata: m, messages: [{ from: '12195555358', id: 'wamid.n0', timestamp: 1, type: 'text' }] },
        1_500,
        unrouted,
      ),
      1_500,
    );
    const notice = messagesChanges(
      {
        metadata: m,
        messages: [
          {
            from: '16505551234',
            id: 'wamid.n2',
            timestamp: 2,
            type: 'system',
            system: {
              body: 'User Bo changed from 16505551234 to 12195555358',
              wa_id: '12195555358',
              type: 'user_changed_number',
            },
          },
        ],
      },
      2_000,
      unrouted,
    );
    const later = messagesChanges(
      { metadata: m, messages: [{ from: '12195555358', id: 'wamid.n3', timestamp: 3, type: 'text' }] },
      3_000,
      unrouted,
    );
    expect((await routeToCustomers(store, notice, 2_000)).map((d) => d.workflowId)).toEqual([`conversation:${pn}:16505551234`]);
    expect((await routeToCustomers(store, later, 3_000)).map((d) => d.workflowId)).toEqual([`conversation:${pn}:16505551234`]);
    expect(await recipientOf(store, pn, '16505551234')).toEqual({ to: '12195555358' });
    // A late redelivery of an older notice moves nothing back.
    await store.recordIdentifierChange(pn, 'someone-else', { waId: '12195555358' }, 1_900);
    expect(await store.findCustomer(pn, '12195555358')).toMatchObject({ key: '16505551234' });
  });

  it('a `system` message of another type, or one naming no new identifier, changes no identity', () => {
    const unrouted: string[] = [];
    const system = (s: Record<string, string>) =>
      messagesChanges(
        { metadata, messages: [{ from: '16505551234', id: 'wamid.s', timestamp: 1, type: 'system', system: s }] },
        1,
        unrouted,
      )[0]!;
    expect(system({ type: 'customer_identity_changed', body: 'security code changed' }).changedTo).toBeUndefined();
    expect(system({ type: 'user_changed_number', body: 'User changed' }).changedTo).toBeUndefined();
    expect(system({ type: 'user_changed_number', wa_id: 'not a number' }).changedTo).toBeUndefined();
    // An odd notice is still a message, kept as sent.
    const odd = messagesChanges(
      {
        metadata,
        messages: [{ from: '16505551234', id: 'wamid.o', timestamp: 1, type: 'system', system: { wa_id: 12195555358 } }],
      },
      1,
      unrouted,
    )[0]!;
    expect(odd.changedTo).toBeUndefined();
    expect(odd.event).toMatchObject({ message: { content: { system: { wa_id: 12195555358 } } } });
  });

  it('leaves unroutable what names no customer at all', () => {
    const unrouted: string[] = [];
    expect(
      messagesChanges({ metadata, messages: [{ from: '', id: 'wamid.x', timestamp: 1, type: 'text' }] }, 1, unrouted),
    ).toEqual([]);
    expect(unrouted).toEqual(['messages:unroutable_number']);
  });
});
