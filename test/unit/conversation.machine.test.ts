/**
 * The conversation machine, driven only by XState's pure `initialTransition` / `transition` — the
 * way the durable interpreter drives it — through the shared driver (scenarios/machine-driver.ts),
 * which keeps what the interpreter would keep: pending timers (delayed raises by id, cancelled by
 * `xstate.cancel`), and the effects emitted.
 */
import { transition, type EventObject } from 'xstate';
import {
  DEFAULT_CONVERSATION_SETTINGS,
  classifyInbound,
  conversationDedupeKey,
  conversationDedupeKeyBeforeKinds,
  conversationMachine,
  predictPricing,
  sendRefusal,
  windowOf,
  type ConversationEvent,
  type ConversationSettings,
  type ConversationSnapshot,
  type EnqueueSendParams,
  type InboundMessage,
  type OutboundContent,
} from '../../machines/conversation';
import { UNSUPPORTED_NOTICES } from '../../machines/conversation/rules';
import type { MessageRecord, MessageStatusUpdate } from '../../machines/conversation/messages';
import { MachineDriver, type Action } from '../../scenarios/machine-driver';

const PNID = '106540352242922';
const WA_ID = '16505551234';
const T0 = 1_750_000_000_000;
const SECOND = 1000;
const HOUR = 60 * 60 * SECOND;
const DAY = 24 * HOUR;

const EFFECTS = ['recordMessage', 'recordStatus', 'enqueueSend'];
const TIMER_ACTIONS = ['xstate.raise', 'xstate.cancel'];
const CHECK = 'customerServiceWindow.check';

/** The shared pure driver, with what these tests read and check after every step. */
class Run {
  private readonly driver: MachineDriver<ConversationSnapshot>;
  /** Actions of the last step. */
  actions: Action[] = [];
  /** Every action since the start. */
  all: Action[] = [];

  constructor(settings?: Partial<ConversationSettings>) {
    this.driver = new MachineDriver(conversationMachine, {
      phoneNumberId: PNID,
      waId: WA_ID,
      ...(settings ? { settings } : {}),
    });
    this.record();
  }

  get snapshot(): ConversationSnapshot {
    return this.driver.snapshot;
  }
  get timers() {
    return this.driver.timers;
  }

  send(event: ConversationEvent | EventObject): this {
    this.driver.send(event);
    expect(this.snapshot.status).toBe('active');
    return this.record();
  }

  can(event: ConversationEvent): boolean {
    return this.driver.can(event);
  }

  /** Delivers the one pending timer whose id contains `name`. */
  fire(name: string): this {
    const matches = [...this.timers.keys()].filter((id) => id.includes(name));
    expect(matches).toHaveLength(1);
    this.driver.fire(matches[0]!);
    return this.record();
  }

  timer(name: string): { event: EventObject; delay: number } | undefined {
    const found = [...this.timers.entries()].find(([id]) => id.includes(name))?.[1];
    return found && { event: found.event, delay: found.delay };
  }

  get context() {
    return this.snapshot.context;
  }
  get window() {
    return windowOf(this.snapshot);
  }

  effects<T>(type: string, from: Action[] = this.actions): T[] {
    return from.filter((a) => a.type === type).map((a) => a.params as T);
  }
  records(from: Action[] = this.actions): MessageRecord[] {
    return this.effects<MessageRecord>('recordMessage', from);
  }
  statuses(from: Action[] = this.actions): MessageStatusUpdate[] {
    return this.effects<MessageStatusUpdate>('recordStatus', from);
  }

  /** What the interpreter needs of every step: known actions, timers that wait, serialisable params and context. */
  private record(): this {
    const { actions, effects } = this.driver.last;
    for (const { type } of actions) expect([...EFFECTS, ...TIMER_ACTIONS]).toContain(type);
    for (const { params } of effects) expect(JSON.parse(JSON.stringify(params))).toEqual(params);
    for (const { type, params } of actions)
      if (type === 'xstate.raise') expect((params as { delay: number }).delay).toBeGreaterThan(0);
    expect(JSON.parse(JSON.stringify(this.snapshot.context))).toEqual(this.snapshot.context);
    this.actions = actions;
    this.all.push(...actions);
    return this;
  }
}

// --- events ---------------------------------------------------------------------------------------

let seq = 0;
const wamid = () => `wamid.${++seq}`;

function customer(timestamp: number, at = timestamp + SECOND, extra: Partial<InboundMessage> = {}): ConversationEvent {
  return {
    type: 'customer.message',
    message: { id: wamid(), timestamp, type: 'text', content: { text: { body: 'Hi' } }, ...extra },
    at,
  };
}

function echo(timestamp: number, at = timestamp + SECOND): ConversationEvent {
  return {
    type: 'business.echo',
    message: { id: wamid(), timestamp, type: 'text', content: { text: { body: 'On my way' } } },
    at,
  };
}

function history(timestamp: number, fromBusiness: boolean, at: number): ConversationEvent {
  return {
    type: 'history.message',
    message: { id: wamid(), timestamp, type: 'text', content: { text: { body: 'See you' } }, fromBusiness },
    at,
  };
}

const text: OutboundContent = { type: 'text', text: { body: 'Hello' } };
const template = (category?: 'marketing' | 'utility' | 'authentication'): OutboundContent => ({
  type: 'template',
  template: { name: 'order_update', language: 'en_US', ...(category ? { category } : {}) },
});

function send(
  message: OutboundContent,
  at: number,
  clientMessageId = `c-${++seq}`,
): Extract<ConversationEvent, { type: 'send' }> {
  return { type: 'send', clientMessageId, message, at, by: 'agent-7' };
}

const ctwa = { referral: { sourceType: 'ad', sourceId: '120210', ctwaClid: 'ARAk' } };

/** A conversation whose window was opened by a customer message written at T0. */
function opened(settings?: Partial<ConversationSettings>): Run {
  return new Run(settings).send(customer(T0));
}

// --- tests ----------------------------------------------------------------------------------------

describe('initial state', () => {
  it('starts with every region closed, templates only, and nothing scheduled', () => {
    const run = new Run();
    expect(run.snapshot.value).toEqual({ customerServiceWindow: 'closed', freeEntryPoint: 'none', inbox: 'closed' });
    expect(run.window).toEqual({
      customerServiceWindow: { status: 'closed' },
      freeEntryPoint: { status: 'none' },
      inbox: 'closed',
      allowedToSend: 'templates_only',
    });
    expect(run.timers.size).toBe(0);
    expect(run.context.settings).toEqual(DEFAULT_CONVERSATION_SETTINGS);
  });

  it('takes partial settings over the defaults', () => {
    const run = new Run({ customerServiceWindowMs: HOUR });
    expect(run.context.settings).toEqual({ ...DEFAULT_CONVERSATION_SETTINGS, customerServiceWindowMs: HOUR });
    run.send(customer(T0));
    expect(run.window.customerServiceWindow.expiresAt).toBe(T0 + HOUR);
  });
});

describe('customer service window', () => {
  it('is opened by a customer message for 24 h from its timestamp, with one check due then', () => {
    const run = new Run().send(customer(T0, T0 + 2 * SECOND));
    expect(run.window.customerServiceWindow).toEqual({ status: 'open', openedAt: T0, expiresAt: T0 + DAY });
    expect(run.window.allowedToSend).toBe('any');
    const check = run.timer(CHECK)!;
    expect(check.delay).toBe(DAY - 2 * SECOND);
    expect(check.event).toEqual({ type: CHECK, scheduledFor: T0 + DAY });
  });

  it('is not opened by an echo: messages sent from the app never open a window', () => {
    const run = new Run().send(echo(T0));
    expect(run.window.customerServiceWindow.status).toBe('closed');
    expect(run.timers.size).toBe(0);
    expect(run.can(send(text, T0 + SECOND))).toBe(false);
  });

  it('is opened by a customer message that follows an echo', () => {
    const run = new Run().send(echo(T0)).send(customer(T0 + HOUR));
    expect(run.window.customerServiceWindow).toEqual({ status: 'open', openedAt: T0 + HOUR, expiresAt: T0 + HOUR + DAY });
  });

  it('is neither reset nor extended by echoes while open', () => {
    const run = opened();
    const actionsBefore = run.all.length;
    run.send(echo(T0 + 20 * HOUR));
    expect(run.window.customerServiceWindow.expiresAt).toBe(T0 + DAY);
    expect(run.all.slice(actionsBefore).filter((a) => TIMER_ACTIONS.includes(a.type))).toEqual([]);
    run.fire(CHECK);
    expect(run.window.customerServiceWindow.status).toBe('closed');
  });

  it('is never opened by history, even from the customer', () => {
    const run = new Run().send(history(T0 - HOUR, false, T0)).send(history(T0 - 30 * 60_000, true, T0));
    expect(run.window.customerServiceWindow.status).toBe('closed');
    expect(run.window.inbox).toBe('closed');
    expect(run.context.counts.history).toBe(2);
  });

  it('closes when its check fires after 24 h of silence', () => {
    const run = opened().fire(CHECK);
    expect(run.window).toEqual({
      customerServiceWindow: { status: 'closed' },
      freeEntryPoint: { status: 'none' },
      inbox: 'open',
      allowedToSend: 'templates_only',
    });
    expect(run.context.customerServiceWindow).toMatchObject({ closedAt: T0 + DAY, closedBy: 'expiry' });
    expect(run.timers.size).toBe(0);
  });

  it('stays open when a later message moved the deadline, and re-checks at the new one', () => {
    const run = opened().send(customer(T0 + 10 * HOUR));
    expect(run.window.customerServiceWindow.expiresAt).toBe(T0 + 34 * HOUR);

    run.fire(CHECK);
    expect(run.window.customerServiceWindow.status).toBe('open');
    const recheck = run.timer(CHECK)!;
    expect(recheck.event).toEqual({ type: CHECK, scheduledFor: T0 + 34 * HOUR });
    expect(recheck.delay).toBe(10 * HOUR);

    run.fire(CHECK);
    expect(run.window.customerServiceWindow.status).toBe('closed');
    expect(run.context.customerServiceWindow.closedAt).toBe(T0 + 34 * HOUR);
  });

  it('is never shortened by shuffled deliveries', () => {
    const run = new Run()
      .send(customer(T0 + 5 * HOUR, T0 + 5 * HOUR + SECOND))
      .send(customer(T0 + 2 * HOUR, T0 + 5 * HOUR + 2 * SECOND));
    expect(run.window.customerServiceWindow.expiresAt).toBe(T0 + 29 * HOUR);
    expect(run.context.lastCustomerMessageAt).toBe(T0 + 5 * HOUR);
    expect(run.context.counts.customer).toBe(2);
  });

  it('is not opened by a late redelivery already older than the window, which is still recorded', () => {
    const run = new Run().send(customer(T0 - DAY - SECOND, T0));
    expect(run.window.customerServiceWindow.status).toBe('closed');
    expect(run.timers.size).toBe(0);
    expect(run.records()).toHaveLength(1);
    expect(run.window.inbox).toBe('open');

    const late = new Run().send(customer(T0 - DAY, T0)); // exactly 24 h old: closed too
    expect(late.window.customerServiceWindow.status).toBe('closed');
  });

  it('keeps exactly one pending check however many messages arrive while open', () => {
    const run = new Run();
    for (let i = 0; i < 100; i++) run.send(customer(T0 + i * 60_000));
    expect(run.effects('xstate.raise', run.all)).toHaveLength(1);
    expect(run.effects('xstate.cancel', run.all)).toHaveLength(0);
    expect(run.timers.size).toBe(1);
    expect(run.window.customerServiceWindow.expiresAt).toBe(T0 + 99 * 60_000 + DAY);

    // The first check finds the moved deadline and arms a single new one for it.
    run.fire(CHECK);
    expect(run.timers.size).toBe(1);
    expect(run.timer(CHECK)!.event).toEqual({ type: CHECK, scheduledFor: T0 + 99 * 60_000 + DAY });
    expect(run.effects('xstate.raise', run.all)).toHaveLength(2);
    run.fire(CHECK);
    expect(run.window.customerServiceWindow.status).toBe('closed');
  });

  it('closes at once when Meta refuses a free-form message with 131047, cancelling its check', () => {
    const run = opened();
    const sent = send(text, T0 + HOUR);
    run.send(sent).send({
      type: 'send.failed',
      clientMessageId: sent.clientMessageId,
      code: 131047,
      title: 'Re-engagement message',
      at: T0 + HOUR + SECOND,
    });
    expect(run.window.customerServiceWindow.status).toBe('closed');
    expect(run.effects('xstate.cancel')).toEqual([{ sendId: CHECK }]);
    expect(run.timers.size).toBe(0);
    expect(run.context.customerServiceWindow).toMatchObject({ closedAt: T0 + HOUR + SECOND, closedBy: 'meta' });
    expect(run.context.lastRefusal).toEqual({
      clientMessageId: sent.clientMessageId,
      code: 131047,
      title: 'Re-engagement message',
      at: T0 + HOUR + SECOND,
    });

    // The customer writing again opens a fresh window.
    run.send(customer(T0 + 2 * HOUR));
    expect(run.window.customerServiceWindow).toEqual({ status: 'open', openedAt: T0 + 2 * HOUR, expiresAt: T0 + 26 * HOUR });
    expect(run.timers.size).toBe(1);
  });

  it('closes on a failed status carrying 131047, but not on other failures', () => {
    const run = opened();
    run.send({
      type: 'message.status',
      status: { wamid: 'wamid.X', status: 'failed', timestamp: T0 + HOUR, errors: [{ code: 131026 }] },
      at: T0 + HOUR,
    });
    expect(run.window.customerServiceWindow.status).toBe('open');
    run.send({ type: 'send.failed', clientMessageId: 'c-x', code: 131042, at: T0 + HOUR });
    expect(run.window.customerServiceWindow.status).toBe('open');
    run.send({
      type: 'message.status',
      status: { wamid: 'wamid.Y', status: 'failed', timestamp: T0 + 2 * HOUR, errors: [{ code: 131047 }] },
      at: T0 + 2 * HOUR,
    });
    expect(run.window.customerServiceWindow.status).toBe('closed');
    expect(run.context.lastRefusal).toEqual({ wamid: 'wamid.Y', code: 131047, at: T0 + 2 * HOUR });
  });
});

describe('sending', () => {
  it('refuses a free-form message outside the window, explaining why, and takes a template', () => {
    const run = new Run();
    const freeForm = send(text, T0);
    expect(run.can(freeForm)).toBe(false);
    const refusal = sendRefusal(run.snapshot, freeForm)!;
    expect(refusal.code).toBe('customer_service_window_closed');
    expect(refusal.message).toContain('never been opened');
    expect(refusal.message).toContain('Free-form messages cannot be sent');
    expect(refusal.hint).toContain('approved message template');
    expect(refusal.hint).toContain('the customer needs to write to you');

    const tpl = send(template('marketing'), T0);
    expect(run.can(tpl)).toBe(true);
    expect(sendRefusal(run.snapshot, tpl)).toBeUndefined();

    // A refused send changes nothing when it arrives anyway (as a signal).
    run.send(freeForm);
    expect(run.actions).toEqual([]);
    expect(run.window.inbox).toBe('closed');
  });

  it('names when the window closed', () => {
    const run = opened().fire(CHECK);
    const refusal = sendRefusal(run.snapshot, send({ type: 'image', image: { id: 'media-1' } }, T0 + 2 * DAY))!;
    expect(refusal.message).toContain(`closed since ${new Date(T0 + DAY).toISOString()}`);
    expect(sendRefusal(run.snapshot, { type: 'inbox.close' })).toBeUndefined();
  });

  it('takes any message type inside the window', () => {
    const run = opened();
    const messages: OutboundContent[] = [
      text,
      { type: 'image', image: { link: 'https://example.com/a.png', caption: 'a' } },
      { type: 'document', document: { id: 'doc-1' } },
      { type: 'audio', audio: { id: 'aud-1' } },
      { type: 'video', video: { id: 'vid-1' } },
      { type: 'sticker', sticker: { id: 'stk-1' } },
      { type: 'reaction', reaction: { messageId: 'wamid.1', emoji: '👍' } },
      { type: 'interactive', interactive: { type: 'button', body: { text: 'Pick' } } },
    ];
    for (const message of messages) expect(run.can(send(message, T0 + HOUR))).toBe(true);
    expect(sendRefusal(run.snapshot, send(text, T0 + HOUR))).toBeUndefined();
  });

  it('records the queued message, then hands it to the sender', () => {
    const run = opened();
    const event = send(text, T0 + HOUR, 'client-42');
    run.send(event);
    expect(run.actions.map((a) => a.type)).toEqual(['recordMessage', 'enqueueSend']);
    const pricing = { billable: false, type: 'free_customer_service', category: 'service', basis: 'predicted' };
    expect(run.records()[0]).toEqual({
      id: 'client:client-42',
      clientMessageId: 'client-42',
      phoneNumberId: PNID,
      waId: WA_ID,
      direction: 'outbound',
      source: 'platform',
      type: 'text',
      content: { text: { body: 'Hello' } },
      timestamp: T0 + HOUR,
      status: 'queued',
      statusAt: T0 + HOUR,
      pricing,
    });
    expect(run.effects<EnqueueSendParams>('enqueueSend')[0]).toEqual({
      phoneNumberId: PNID,
      waId: WA_ID,
      clientMessageId: 'client-42',
      message: text,
      pricing,
    });
    expect(run.context.counts.platform).toBe(1);
  });

  it('records send results and status webhooks as status updates', () => {
    const run = opened();
    run.send({ type: 'send.accepted', clientMessageId: 'c1', wamid: 'wamid.B2', at: T0 + 1 });
    run.send({ type: 'send.unconfirmed', clientMessageId: 'c2', at: T0 + 2 });
    run.send({
      type: 'send.failed',
      clientMessageId: 'c3',
      code: 131042,
      title: 'Business eligibility payment issue',
      at: T0 + 3,
    });
    run.send({ type: 'send.failed', clientMessageId: 'c4', title: 'gave up', at: T0 + 4 });
    run.send({
      type: 'message.status',
      status: {
        wamid: 'wamid.B2',
        status: 'delivered',
        timestamp: T0 + 5 * SECOND,
        clientMessageId: 'c1',
        pricing: { billable: false, type: 'free_customer_service', category: 'service' },
      },
      at: T0 + 6 * SECOND,
    });
    // Meta's times are whole seconds; one ahead of its arrival is taken as the second it arrived in.
    run.send({
      type: 'message.status',
      status: { wamid: 'wamid.B3', status: 'read', timestamp: T0 + DAY },
      at: T0 + 8 * SECOND + 1,
    });
    const who = { phoneNumberId: PNID, waId: WA_ID };
    expect(run.statuses(run.all)).toEqual([
      { ...who, clientMessageId: 'c1', wamid: 'wamid.B2', status: 'accepted', timestamp: T0 + 1 },
      { ...who, clientMessageId: 'c2', status: 'unconfirmed', timestamp: T0 + 2 },
      {
        ...who,
        clientMessageId: 'c3',
        status: 'failed',
        timestamp: T0 + 3,
        errorCode: 131042,
        errorTitle: 'Business eligibility payment issue',
      },
      { ...who, clientMessageId: 'c4', status: 'failed', timestamp: T0 + 4, errorTitle: 'gave up' },
      {
        ...who,
        wamid: 'wamid.B2',
        clientMessageId: 'c1',
        status: 'delivered',
        timestamp: T0 + 5 * SECOND,
        pricing: { billable: false, type: 'free_customer_service', category: 'service', basis: 'meta' },
      },
      { ...who, wamid: 'wamid.B3', status: 'read', timestamp: T0 + 8 * SECOND },
    ]);
    expect(run.context.lastRefusal).toEqual({ clientMessageId: 'c4', title: 'gave up', at: T0 + 4 });
  });
});

describe('times ahead of arrival', () => {
  it('a customer message dated 2100 opens the window for 24 h from its arrival, and is recorded as written then', () => {
    const run = new Run().send(customer(Date.UTC(2100, 0, 1), T0 + 250));
    expect(run.window.customerServiceWindow).toMatchObject({ status: 'open', expiresAt: T0 + DAY });
    expect(run.context.lastCustomerMessageAt).toBe(T0);
    expect(run.records(run.all).at(-1)).toMatchObject({ timestamp: T0, statusAt: T0 + 250 });
  });
});

describe('inbox', () => {
  it('is opened by a customer message and closed by an agent', () => {
    const run = new Run().send(customer(T0));
    expect(run.window.inbox).toBe('open');
    run.send({ type: 'inbox.close', at: T0 + HOUR, by: 'agent-7' });
    expect(run.window.inbox).toBe('closed');
    expect(run.context.inbox).toEqual({ openedAt: T0 + SECOND, closedAt: T0 + HOUR, closedBy: 'agent-7' });
    // The customer service window is Meta's, not the inbox's.
    expect(run.window.customerServiceWindow.status).toBe('open');
  });

  it('stays closed on echoes and history: "If the conversation is already closed on the Mumble side, it will stay closed"', () => {
    const run = new Run().send(customer(T0)).send({ type: 'inbox.close', at: T0 + HOUR });
    run.send(echo(T0 + 2 * HOUR)).send(history(T0 - DAY, false, T0 + 2 * HOUR));
    expect(run.window.inbox).toBe('closed');
    expect(run.records(run.all).map((r) => r.source)).toEqual(['customer', 'app_echo', 'history']);
  });

  it('is not opened by an echo on a conversation that never had one', () => {
    expect(new Run().send(echo(T0)).window.inbox).toBe('closed');
  });

  it('is opened by a platform send it takes, not by one it refuses', () => {
    const run = new Run();
    run.send(send(text, T0));
    expect(run.window.inbox).toBe('closed');
    run.send(send(template('utility'), T0 + SECOND));
    expect(run.window.inbox).toBe('open');
    expect(run.context.inbox.openedAt).toBe(T0 + SECOND);
  });

  it('is reopened by the customer writing again', () => {
    const run = new Run()
      .send(customer(T0))
      .send({ type: 'inbox.close', at: T0 + HOUR })
      .send(customer(T0 + 2 * HOUR));
    expect(run.window.inbox).toBe('open');
  });

  it('refuses closing a conversation that is already closed', () => {
    const run = new Run();
    expect(run.can({ type: 'inbox.close', at: T0 })).toBe(false);
    run.send({ type: 'inbox.close', at: T0 });
    expect(run.actions).toEqual([]);
  });
});

describe('free entry point', () => {
  it('is eligible after a Click-to-WhatsApp message, opens on the first accepted reply for 72 h, then ends', () => {
    const run = new Run().send(customer(T0, T0 + SECOND, ctwa));
    expect(run.window.freeEntryPoint).toEqual({ status: 'eligible' });
    expect(run.context.referral).toMatchObject({ sourceType: 'ad', sourceId: '120210', ctwaClid: 'ARAk', at: T0 });

    const reply = send(text, T0 + HOUR);
    run
      .send(reply)
      .send({ type: 'send.accepted', clientMessageId: reply.clientMessageId, wamid: 'wamid.R1', at: T0 + HOUR + SECOND });
    expect(run.window.freeEntryPoint).toEqual({ status: 'open', expiresAt: T0 + HOUR + SECOND + 72 * HOUR });
    expect(run.timer('freeEntryPoint')!.delay).toBe(72 * HOUR);

    // Every message is free inside it, templates included, even after the customer service window closed.
    run.fire(CHECK);
    expect(run.window.customerServiceWindow.status).toBe('closed');
    expect(run.window.freeEntryPoint.status).toBe('open');
    expect(run.can(send(text, T0 + 2 * DAY))).toBe(false); // the customer service window alone decides
    run.send(send(template('marketing'), T0 + 2 * DAY));
    expect(run.effects<EnqueueSendParams>('enqueueSend')[0]!.pricing).toEqual({
      billable: false,
      type: 'free_entry_point',
      category: 'marketing',
      basis: 'predicted',
    });

    run.fire('freeEntryPoint');
    expect(run.window.freeEntryPoint).toEqual({ status: 'none' });
    run.send(send(template('marketing'), T0 + 4 * DAY));
    expect(run.effects<EnqueueSendParams>('enqueueSend')[0]!.pricing).toMatchObject({ billable: true, type: 'regular' });
  });

  it('stops being eligible when the customer service window closes without a reply', () => {
    const run = new Run().send(customer(T0, T0 + SECOND, ctwa)).fire(CHECK);
    expect(run.window.freeEntryPoint).toEqual({ status: 'none' });
    run.send({ type: 'send.accepted', clientMessageId: 'c-1', wamid: 'wamid.R', at: T0 + DAY + HOUR });
    expect(run.window.freeEntryPoint).toEqual({ status: 'none' });
  });

  it('stops being eligible when Meta says the window is closed', () => {
    const run = new Run().send(customer(T0, T0 + SECOND, ctwa));
    run.send({ type: 'send.failed', clientMessageId: 'c-1', code: 131047, at: T0 + HOUR });
    expect(run.window.freeEntryPoint).toEqual({ status: 'none' });
  });

  it('is not made eligible by a referral on a late redelivery, or by a message without one', () => {
    expect(new Run().send(customer(T0 - 2 * DAY, T0, ctwa)).window.freeEntryPoint.status).toBe('none');
    expect(new Run().send(customer(T0)).window.freeEntryPoint.status).toBe('none');
  });

  it('becomes eligible when a customer already in the window arrives from an ad', () => {
    const run = opened().send(customer(T0 + HOUR, T0 + HOUR + SECOND, ctwa));
    expect(run.window.freeEntryPoint.status).toBe('eligible');
  });
});

describe('pricing prediction', () => {
  const inWindow = { customerServiceWindowOpen: true, freeEntryPointOpen: false };
  const outside = { customerServiceWindowOpen: false, freeEntryPointOpen: false };
  const inFep = { customerServiceWindowOpen: false, freeEntryPointOpen: true };

  it.each([
    ['free form inside the window', text, inWindow, { billable: false, type: 'free_customer_service', category: 'service' }],
    [
      'utility template inside the window',
      template('utility'),
      inWindow,
      { billable: false, type: 'free_customer_service', category: 'utility' },
    ],
    [
      'utility template outside the window',
      template('utility'),
      outside,
      { billable: true, type: 'regular', category: 'utility' },
    ],
    [
      'marketing template inside the window',
      template('marketing'),
      inWindow,
      { billable: true, type: 'regular', category: 'marketing' },
    ],
    [
      'authentication template outside',
      template('authentication'),
      outside,
      { billable: true, type: 'regular', category: 'authentication' },
    ],
    ['template of unknown category', template(), inWindow, { billable: true, type: 'regular' }],
    [
      'marketing template inside a free entry point',
      template('marketing'),
      inFep,
      { billable: false, type: 'free_entry_point', category: 'marketing' },
    ],
    [
      'free form inside a free entry point',
      text,
      { ...inFep, customerServiceWindowOpen: true },
      { billable: false, type: 'free_entry_point', category: 'service' },
    ],
  ])('%s', (_, message, windows, expected) => {
    expect(predictPricing(message, windows)).toEqual({ ...expected, basis: 'predicted' });
  });

  it('prices sends by the windows they leave in', () => {
    const run = new Run();
    run.send(send(template('utility'), T0));
    expect(run.effects<EnqueueSendParams>('enqueueSend')[0]!.pricing).toMatchObject({
      billable: true,
      type: 'regular',
      category: 'utility',
    });
    run.send(customer(T0 + HOUR)).send(send(template('utility'), T0 + HOUR));
    expect(run.effects<EnqueueSendParams>('enqueueSend')[0]!.pricing).toMatchObject({
      billable: false,
      type: 'free_customer_service',
    });
    run.send(send(template(), T0 + HOUR));
    expect(run.effects<EnqueueSendParams>('enqueueSend')[0]!.pricing).toEqual({
      billable: true,
      type: 'regular',
      basis: 'predicted',
    });
    expect(run.records()[0]!.pricing).toEqual({ billable: true, type: 'regular', basis: 'predicted' });
  });

  it('records customer messages as inbound and echoes as free business-app messages', () => {
    const run = new Run().send(customer(T0, T0 + SECOND, { profileName: 'Sheena Nelson' }));
    expect(run.records()[0]).toEqual({
      id: expect.stringMatching(/^wamid\./),
      wamid: run.records()[0]!.id,
      phoneNumberId: PNID,
      waId: WA_ID,
      direction: 'inbound',
      source: 'customer',
      type: 'text',
      content: { text: { body: 'Hi' } },
      timestamp: T0,
      status: 'received',
      statusAt: T0 + SECOND,
      pricing: { billable: false, type: 'inbound', basis: 'predicted' },
    });
    expect(run.context.profileName).toBe('Sheena Nelson');
    run.send(echo(T0 + HOUR));
    expect(run.records()[0]).toMatchObject({
      direction: 'outbound',
      source: 'app_echo',
      status: 'received',
      timestamp: T0 + HOUR,
      pricing: { billable: false, type: 'business_app', basis: 'predicted' },
    });
    run.send(history(T0 - DAY, true, T0 + HOUR)).send(history(T0 - DAY, false, T0 + HOUR));
    expect(run.records(run.actions)[0]).toMatchObject({ source: 'history', direction: 'inbound', pricing: { type: 'inbound' } });
    expect(
      run
        .records(run.all)
        .filter((r) => r.source === 'history')
        .map((r) => r.direction),
    ).toEqual(['outbound', 'inbound']);
  });

  it("keeps Meta's pricing from status webhooks, mapping a type it does not know", () => {
    const run = new Run();
    run.send({
      type: 'message.status',
      status: {
        wamid: 'wamid.T',
        status: 'sent',
        timestamp: T0,
        pricing: { billable: true, type: 'regular', category: 'marketing' },
      },
      at: T0,
    });
    expect(run.statuses()[0]!.pricing).toEqual({ billable: true, type: 'regular', category: 'marketing', basis: 'meta' });
    run.send({
      type: 'message.status',
      status: { wamid: 'wamid.T', status: 'delivered', timestamp: T0, pricing: { billable: false, type: 'free_something_new' } },
      at: T0,
    });
    expect(run.statuses()[0]!.pricing).toEqual({ billable: false, type: 'free_customer_service', basis: 'meta' });
  });
});

describe('unsupported messages', () => {
  const unsupported = (kind?: string, code = 131051): Partial<InboundMessage> => ({
    type: 'unsupported',
    content: kind ? { unsupported: { type: kind } } : {},
    errors: [{ code, title: 'Message type unknown' }],
  });

  it('tells the agent to open the app for 131060 (Coexistence first contact)', () => {
    const run = new Run().send(customer(T0, T0 + SECOND, { ...unsupported(undefined, 131060), ...ctwa }));
    const record = run.records()[0]!;
    expect(record.notice).toEqual({ code: 'message_unavailable', message: UNSUPPORTED_NOTICES.message_unavailable });
    expect(record.notice!.message).toContain('Open the WhatsApp Business app');
    expect(record).toMatchObject({ type: 'unsupported', errorCode: 131060, errorTitle: 'Message type unknown' });
    // Still the customer writing: the window opens and the ad makes it an entry point.
    expect(run.window.customerServiceWindow.status).toBe('open');
    expect(run.window.freeEntryPoint.status).toBe('eligible');
  });

  it.each([
    ['group_invite', 'group_chats'],
    ['broadcast', 'broadcast_lists'],
    ['view_once', 'disappearing_messages'],
    ['keep_in_chat', 'disappearing_messages'],
    ['live_location', 'disappearing_messages'],
    ['VIDEO_CALL', 'calls'],
    ['order', 'business_tools'],
    ['poll_creation', 'unsupported_message'],
    [undefined, 'unsupported_message'],
  ])('classifies %s as %s', (kind, code) => {
    const message = { type: 'unsupported', ...unsupported(kind) } as InboundMessage;
    expect(classifyInbound(message)).toEqual({ code, message: UNSUPPORTED_NOTICES[code as keyof typeof UNSUPPORTED_NOTICES] });
  });

  it('uses the help article wording for the gaps', () => {
    expect(UNSUPPORTED_NOTICES.group_chats).toContain("Meta doesn't sync groups to the API");
    expect(UNSUPPORTED_NOTICES.disappearing_messages).toContain('Disappearing messages, View Once, Live Location');
    expect(UNSUPPORTED_NOTICES.calls).toContain('Voice and video calls');
    expect(UNSUPPORTED_NOTICES.business_tools).toContain('Catalog, orders, statuses');
    expect(UNSUPPORTED_NOTICES.broadcast_lists).toContain('Broadcast Lists');
  });

  it('leaves ordinary messages alone', () => {
    expect(classifyInbound({ type: 'text', content: { text: { body: 'Hi' } } })).toBeUndefined();
    expect(classifyInbound({ type: 'image', content: { image: { id: 'm' } } })).toBeUndefined();
    expect(new Run().send(customer(T0)).records()[0]!.notice).toBeUndefined();
  });

  it('classifies echoes from the app too, never as an error', () => {
    const run = new Run().send({
      type: 'business.echo',
      message: { id: 'wamid.E', timestamp: T0, type: 'unsupported', content: { unsupported: { type: 'view_once' } } },
      at: T0,
    });
    expect(run.records()[0]!.notice!.code).toBe('disappearing_messages');
  });
});

describe('bounded context', () => {
  it('stays the same size whatever the number of messages', () => {
    const run = new Run();
    const step = (i: number) => {
      const t = T0 + i * 10 * SECOND;
      switch (i % 5) {
        case 0:
          return customer(t, t + SECOND, i % 10 === 0 ? ctwa : {});
        case 1:
          return echo(t);
        case 2:
          return send(text, t, `c-${i}`);
        case 3:
          return { type: 'send.accepted', clientMessageId: `c-${i - 1}`, wamid: `wamid.s${i}`, at: t } as const;
        default:
          return {
            type: 'message.status',
            status: { wamid: `wamid.s${i - 1}`, status: 'delivered', timestamp: t },
            at: t,
          } as const;
      }
    };
    for (let i = 0; i < 100; i++) run.send(step(i));
    const sizeAfter100 = JSON.stringify(run.context).length;
    for (let i = 100; i < 3_000; i++) run.send(step(i));
    const sizeAfter3000 = JSON.stringify(run.context).length;

    expect(run.context.counts).toEqual({ customer: 600, platform: 600, echoes: 600, history: 0 });
    expect(sizeAfter3000 - sizeAfter100).toBeLessThan(20); // a few more digits in counters and ids
    expect(sizeAfter3000).toBeLessThan(1500);
    expect(run.timers.size).toBe(2); // the window check and the free-entry-point window
  });
});

describe('dedupe keys', () => {
  it.each([
    [customer(T0), /^message:wamid\.\d+:[0-9a-f]{8}$/],
    [echo(T0), /^echo:wamid\.\d+:[0-9a-f]{8}$/],
    [history(T0, true, T0), /^history:wamid\.\d+:[0-9a-f]{8}$/],
  ])('keys %# messages by kind, wamid and content', (event, pattern) => {
    expect(conversationDedupeKey(event)).toMatch(pattern);
  });

  it('tells a redelivery from a different message, or another kind, under the same wamid', () => {
    const first = customer(T0) as Extract<ConversationEvent, { type: 'customer.message' }>;
    const redelivered = { ...first, at: T0 + HOUR, message: { ...first.message, content: { ...first.message.content } } };
    const different = { ...first, message: { ...first.message, content: { text: { body: 'something else' } } } };
    const asEcho = { type: 'business.echo' as const, message: first.message, at: T0 };
    expect(conversationDedupeKey(redelivered)).toBe(conversationDedupeKey(first));
    expect(conversationDedupeKey(different)).not.toBe(conversationDedupeKey(first));
    expect(conversationDedupeKey(asEcho)).not.toBe(conversationDedupeKey(first));
  });

  it('keys every message by its wamid alone for executions recorded before kinds and content', () => {
    for (const event of [customer(T0), echo(T0), history(T0, true, T0)]) {
      expect(conversationDedupeKeyBeforeKinds(event)).toMatch(/^message:wamid\.\d+$/);
    }
  });

  it('keys statuses, sends and send results', () => {
    expect(
      conversationDedupeKey({
        type: 'message.status',
        status: { wamid: 'wamid.B', status: 'read', timestamp: T0 },
        at: T0,
      } as ConversationEvent),
    ).toBe('status:wamid.B:read');
    expect(conversationDedupeKey(send(text, T0, 'c-9'))).toBe('send:c-9');
    expect(conversationDedupeKey({ type: 'send.accepted', clientMessageId: 'c-9', wamid: 'w', at: T0 })).toBe(
      'send.accepted:c-9',
    );
    expect(conversationDedupeKey({ type: 'send.failed', clientMessageId: 'c-9', code: 1, at: T0 })).toBe('send.failed:c-9');
    expect(conversationDedupeKey({ type: 'send.unconfirmed', clientMessageId: 'c-9', at: T0 })).toBe('send.unconfirmed:c-9');
  });

  it('never keys agent actions or timers', () => {
    expect(conversationDedupeKey({ type: 'inbox.close', at: T0 })).toBeUndefined();
    expect(conversationDedupeKey({ type: CHECK, scheduledFor: T0 })).toBeUndefined();
    expect(conversationDedupeKey({ type: 'customer.message' })).toBeUndefined();
  });
});

describe('read model', () => {
  it('reads the same from a snapshot and from the state query (context and value)', () => {
    const run = opened();
    expect(windowOf(run.context, run.snapshot.value)).toEqual(windowOf(run.snapshot));
    expect(windowOf(JSON.parse(JSON.stringify({ value: run.snapshot.value, context: run.context })))).toEqual(run.window);
  });

  it('survives a persisted snapshot: the deadline lives in context, the timer in the interpreter', () => {
    const run = opened().send(customer(T0 + HOUR));
    const persisted = JSON.parse(JSON.stringify(conversationMachine.getPersistedSnapshot(run.snapshot)));
    const restored = conversationMachine.resolveState({ value: persisted.value, context: persisted.context });
    const [after] = transition(conversationMachine, restored, run.timer(CHECK)!.event as ConversationEvent);
    expect(windowOf(after).customerServiceWindow).toEqual({ status: 'open', openedAt: T0, expiresAt: T0 + 25 * HOUR });
  });
});
