/**
 * The send API decides from the store's row of a conversation (machines/conversation/stored.ts):
 * here the conversation machine is driven through windows opening, lapsing, closed by Meta and
 * reopened, a free entry point; after each step the row its workflow would write, with what the
 * store learns from the messages it records, must show the windows the machine shows, and allow
 * exactly the sends the machine takes.
 */
import {
  conversationMachine,
  conversationRow,
  maySend,
  storedWindow,
  windowOf,
  type ConversationEvent,
  type ConversationRow,
  type ConversationSnapshot,
  type OutboundContent,
  type StoredConversation,
} from '../../machines/conversation';
import { happenedAt } from '../../machines/conversation/records';
import { MachineDriver } from '../../scenarios/machine-driver';

const T0 = 1_750_000_000_000;
const SECOND = 1000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const text: OutboundContent = { type: 'text', text: { body: 'Hello' } };
const template: OutboundContent = { type: 'template', template: { name: 'order_update', language: 'en_US' } };

/** The machine, and beside it what the store would know: the workflow's last row, the customer's messages. */
class Conversation {
  readonly driver = new MachineDriver<ConversationSnapshot>(conversationMachine, { phoneNumberId: '1065', waId: '1650' });
  private row: ConversationRow | undefined;
  private lastCustomerMessageAt: number | undefined;
  private lastCustomerReceivedAt: number | undefined;
  private seq = 0;

  send(event: ConversationEvent): this {
    this.driver.send(event);
    if (event.type === 'customer.message') {
      const written = happenedAt(event.message.timestamp, event.at);
      this.lastCustomerMessageAt = Math.max(this.lastCustomerMessageAt ?? written, written);
      this.lastCustomerReceivedAt = Math.max(this.lastCustomerReceivedAt ?? event.at, event.at);
    }
    return this.mirror();
  }

  fireWindowCheck(): this {
    const id = [...this.driver.timers.keys()].find((k) => k.includes('customerServiceWindow.check'))!;
    this.driver.fire(id);
    return this.mirror();
  }

  customer(timestamp: number, at = timestamp + SECOND, referral = false): this {
    return this.send({
      type: 'customer.message',
      message: {
        id: `wamid.${++this.seq}`,
        timestamp,
        type: 'text',
        content: { text: { body: 'Hi' } },
        ...(referral ? { referral: { sourceType: 'ad', sourceId: '1202' } } : {}),
      },
      at,
    });
  }

  /** What the store holds now. */
  stored(): StoredConversation {
    return {
      ...(this.row ? { row: this.row } : {}),
      ...(this.lastCustomerMessageAt !== undefined ? { lastCustomerMessageAt: this.lastCustomerMessageAt } : {}),
      ...(this.lastCustomerReceivedAt !== undefined ? { lastCustomerReceivedAt: this.lastCustomerReceivedAt } : {}),
      counts: { customer: 0, platform: 0, echoes: 0, history: 0 },
    };
  }

  /** The store agrees with the machine at `now`: the same windows, the same sends allowed. */
  agreesAt(now: number): void {
    const machine = windowOf(this.driver.snapshot);
    const store = storedWindow(this.stored(), now);
    expect(store).toEqual(machine);
    for (const message of [text, template]) {
      const event = { type: 'send' as const, clientMessageId: `c-${++this.seq}`, message, at: now };
      expect(maySend(message, store!.customerServiceWindow.status === 'open')).toBe(this.driver.can(event));
    }
  }

  private mirror(): this {
    this.row = conversationRow(this.driver.snapshot) ?? this.row;
    return this;
  }
}

test('no row before the inbox ever opened: an echo alone keeps nothing (the send API then asks the machine)', () => {
  const c = new Conversation().send({
    type: 'business.echo',
    message: { id: 'wamid.echo', timestamp: T0, type: 'text', content: { text: { body: 'On my way' } } },
    at: T0 + SECOND,
  });
  expect(conversationRow(c.driver.snapshot)).toBeUndefined();
  expect(storedWindow(c.stored(), T0 + HOUR)).toBeUndefined();
});

test('a window the customer opened, extended, and lapsed: the store shows what the machine shows at each time', () => {
  const c = new Conversation().customer(T0);
  c.agreesAt(T0 + HOUR);
  // A later message moves the deadline without a new row: the store reads it from the messages.
  const row = conversationRow(c.driver.snapshot);
  c.customer(T0 + 2 * HOUR);
  expect(conversationRow(c.driver.snapshot)).toEqual(row);
  c.agreesAt(T0 + 3 * HOUR);
  // The deadline passes: the store, comparing with now, closes it; the machine when its check fires.
  c.fireWindowCheck();
  c.fireWindowCheck();
  c.agreesAt(T0 + 2 * HOUR + DAY);
  c.agreesAt(T0 + 2 * HOUR + DAY + HOUR);
  // The customer writes again: open once more.
  c.customer(T0 + 3 * DAY);
  c.agreesAt(T0 + 3 * DAY + HOUR);
});

test('Meta closes the window (131047): closed in the store too, until a customer message received after it', () => {
  const c = new Conversation().customer(T0);
  c.send({ type: 'send.failed', clientMessageId: 'c-1', code: 131047, title: 'Re-engagement message', at: T0 + HOUR });
  expect(windowOf(c.driver.snapshot).customerServiceWindow.status).toBe('closed');
  c.agreesAt(T0 + 2 * HOUR);
  // A customer message reopens it, in the store even before the workflow writes its row again.
  const closedRow = c.stored();
  c.customer(T0 + 3 * HOUR);
  expect(storedWindow({ ...c.stored(), row: closedRow.row! }, T0 + 4 * HOUR)?.customerServiceWindow.status).toBe('open');
  c.agreesAt(T0 + 4 * HOUR);
});

test('a free entry point: eligible while the window is open, then open for its 72 h once Meta accepted the first reply', () => {
  const c = new Conversation().customer(T0, T0 + SECOND, true);
  c.agreesAt(T0 + HOUR);
  expect(storedWindow(c.stored(), T0 + HOUR)?.freeEntryPoint).toEqual({ status: 'eligible' });
  c.send({ type: 'send.accepted', clientMessageId: 'c-1', wamid: 'wamid.reply', at: T0 + HOUR });
  c.agreesAt(T0 + 2 * HOUR);
  expect(storedWindow(c.stored(), T0 + 2 * HOUR)?.freeEntryPoint).toEqual({ status: 'open', expiresAt: T0 + HOUR + 3 * DAY });
  // Past its end the store shows none, as the machine once its timer fired.
  expect(storedWindow(c.stored(), T0 + HOUR + 3 * DAY)?.freeEntryPoint).toEqual({ status: 'none' });
});
