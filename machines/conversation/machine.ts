/**
 * One conversation of a Coexistence number: a business phone_number_id and one customer wa_id,
 * written to from the WhatsApp Business app on the phone and from the Cloud API at once.
 *
 *   customerServiceWindow  closed ⇄ open      the customer's messages open it for 24 h (Meta)
 *   freeEntryPoint         none → eligible → open → none    pricing only, never gates sending
 *   inbox                  closed ⇄ open      the conversation as the platform's agents see it
 *
 * Only the customer opens the customer service window: echoes of what the business wrote in the
 * app, and chat history from before onboarding, never open, reset or extend it (docs/meta.md#conversation-windows).
 * Outside it only templates may be sent.
 *
 * Pure: the message store and the sender queue are named actions (`recordMessage`, `recordStatus`,
 * `queueSend`) that the durable interpreter runs as activities (./effects). The context holds
 * counters and deadlines, never messages, so it stays the same size however long the conversation
 * runs. Times are epoch ms: `at` is when coexist received an event, `timestamp` is Meta's.
 */
import { and, assertEvent, assign, cancel, enqueueActions, not, raise, setup, stateIn, type SnapshotFrom } from 'xstate';
import { WINDOW_CLOSED_CODES } from '../meta-codes';
import type { ConversationContext } from './context';
import type { ConversationEffects } from './effects';
import type { ConversationEvent } from './events';
import { compact } from '../plain';
import { customerMessageRecord, echoRecord, happenedAt, historyRecord, platformRecord, statusUpdate } from './records';
import { maySend, predictPricing } from './rules';
import { DEFAULT_CONVERSATION_SETTINGS, type ConversationInput } from './settings';

type Effect<K extends keyof ConversationEffects> = Parameters<ConversationEffects[K]>[0];

// --- machine --------------------------------------------------------------------------------------

const CUSTOMER_SERVICE_WINDOW_CHECK = 'customerServiceWindow.check';

/** When the customer wrote a message, never after coexist received it (./records). */
function writtenAt(event: Extract<ConversationEvent, { type: 'customer.message' }>): number {
  return happenedAt(event.message.timestamp, event.at);
}

/** When an event happened, for the machine: `at`, or for a window check the time it was set for. */
function timeOf(event: ConversationEvent): number {
  return event.type === 'customerServiceWindow.check' ? event.scheduledFor : event.at;
}

const conversation = setup({
  types: {
    context: {} as ConversationContext,
    events: {} as ConversationEvent,
    input: {} as ConversationInput,
  },
  actions: {
    // Effects, run by the interpreter as activities of the same name.
    recordMessage: (_, _params: Effect<'recordMessage'>) => {},
    recordStatus: (_, _params: Effect<'recordStatus'>) => {},
    enqueueSend: (_, _params: Effect<'enqueueSend'>) => {},
    queueSend: (_, _params: Effect<'queueSend'>) => {},

    // Shuffled deliveries never move the deadline backwards.
    extendCustomerServiceWindow: assign(({ context, event }) => {
      assertEvent(event, 'customer.message');
      const deadline = writtenAt(event) + context.settings.customerServiceWindowMs;
      return {
        customerServiceWindow: {
          ...context.customerServiceWindow,
          expiresAt: Math.max(context.customerServiceWindow.expiresAt ?? deadline, deadline),
        },
      };
    }),
    openCustomerServiceWindow: assign(({ context, event }) => {
      assertEvent(event, 'customer.message');
      return {
        customerServiceWindow: {
          openedAt: writtenAt(event),
          expiresAt: writtenAt(event) + context.settings.customerServiceWindowMs,
        },
      };
    }),
    closeCustomerServiceWindow: assign(({ context, event }) => ({
      customerServiceWindow: {
        openedAt: context.customerServiceWindow.openedAt,
        closedAt: event.type === 'customerServiceWindow.check' ? context.customerServiceWindow.expiresAt : timeOf(event),
        closedBy: event.type === 'customerServiceWindow.check' ? ('expiry' as const) : ('meta' as const),
      },
    })),
    // One id: a new check replaces the pending one, and leaving `open` cancels it.
    scheduleCustomerServiceWindowCheck: raise(
      ({ context }) => ({ type: CUSTOMER_SERVICE_WINDOW_CHECK, scheduledFor: context.customerServiceWindow.expiresAt ?? 0 }),
      {
        id: CUSTOMER_SERVICE_WINDOW_CHECK,
        delay: ({ context, event }) => Math.max(0, (context.customerServiceWindow.expiresAt ?? 0) - timeOf(event)),
      },
    ),
    cancelCustomerServiceWindowCheck: cancel(CUSTOMER_SERVICE_WINDOW_CHECK),

    startFreeEntryPoint: assign(({ context, event }) => {
      assertEvent(event, 'send.accepted');
      return { freeEntryPoint: { startedAt: event.at, expiresAt: event.at + context.settings.freeEntryPointWindowMs } };
    }),

    openInbox: assign(({ event }) => ({ inbox: { openedAt: timeOf(event) } })),
    closeInbox: assign(({ context, event }) => {
      assertEvent(event, 'inbox.close');
      return { inbox: compact({ openedAt: context.inbox.openedAt, closedAt: event.at, closedBy: event.by }) };
    }),

    noteCustomerMessage: assign(({ context, event }) => {
      assertEvent(event, 'customer.message');
      const { message } = event;
      const written = writtenAt(event);
      return {
        counts: { ...context.counts, customer: context.counts.customer + 1 },
        lastCustomerMessageAt: Math.max(context.lastCustomerMessageAt ?? written, written),
        profileName: message.profileName || context.profileName,
        referral: message.referral ? { ...message.referral, messageId: message.id, at: written } : context.referral,
      };
    }),
    countEcho: assign({ counts: ({ context }) => ({ ...context.counts, echoes: context.counts.echoes + 1 }) }),
    countHistoryMessage: assign({ counts: ({ context }) => ({ ...context.counts, history: context.counts.history + 1 }) }),
    noteRefusal: assign(({ event }) => {
      if (event.type === 'send.failed') {
        return {
          lastRefusal: compact({ clientMessageId: event.clientMessageId, code: event.code, title: event.title, at: event.at }),
        };
      }
      assertEvent(event, 'message.status');
      const error = event.status.errors?.[0];
      return {
        lastRefusal: compact({
          clientMessageId: event.status.clientMessageId,
          wamid: event.status.wamid,
          code: error?.code,
          title: error?.title,
          at: event.at,
        }),
      };
    }),
  },
  guards: {
    /** A late redelivery (already older than the window) is recorded but opens nothing. */
    opensCustomerServiceWindow: ({ context, event }) =>
      event.type === 'customer.message' && writtenAt(event) + context.settings.customerServiceWindowMs > event.at,
    hasReferral: ({ event }) => event.type === 'customer.message' && event.message.referral !== undefined,
    arrivesFromEntryPoint: and(['opensCustomerServiceWindow', 'hasReferral']),
    customerServiceWindowLapsed: ({ context, event }) =>
      event.type === 'customerServiceWindow.check' && (context.customerServiceWindow.expiresAt ?? 0) <= event.scheduledFor,
    metaSaysWindowClosed: ({ event }) =>
      (event.type === 'send.failed' && event.code !== undefined && WINDOW_CLOSED_CODES.includes(event.code)) ||
      (event.type === 'message.status' &&
        event.status.status === 'failed' &&
        (event.status.errors ?? []).some((e) => WINDOW_CLOSED_CODES.includes(e.code))),
    isFailedStatus: ({ event }) => event.type === 'message.status' && event.status.status === 'failed',
    customerServiceWindowOpen: stateIn({ customerServiceWindow: 'open' }),
    freeEntryPointOpen: stateIn({ freeEntryPoint: 'open' }),
    freeEntryPointEligible: stateIn({ freeEntryPoint: 'eligible' }),
    /** ./rules `maySend`; the window's deadline is kept exactly while it is open (./context). */
    canSendMessage: ({ context, event }) =>
      event.type === 'send' && maySend(event.message, context.customerServiceWindow.expiresAt !== undefined),
  },
  delays: {
    freeEntryPointWindow: ({ context }) => context.settings.freeEntryPointWindowMs,
  },
});

/**
 * Takes a send, priced by the windows it leaves in. The send API records it in the number's queue
 * itself (`recordedByCaller`); other callers have it recorded in one step (`queueSend`), or, for
 * conversations started before that, by `recordMessage` then `enqueueSend`.
 */
const takeSend = conversation.createAction(
  enqueueActions(({ context, event, enqueue, check }) => {
    assertEvent(event, 'send');
    const pricing = predictPricing(event.message, {
      customerServiceWindowOpen: check('customerServiceWindowOpen'),
      freeEntryPointOpen: check('freeEntryPointOpen'),
    });
    enqueue.assign({ counts: { ...context.counts, platform: context.counts.platform + 1 } });
    if (event.recordedByCaller) return;
    const record = platformRecord(context, event, pricing);
    if (context.settings.queueInStore) {
      const windowExpiresAt = event.message.type === 'template' ? undefined : context.customerServiceWindow.expiresAt;
      enqueue({
        type: 'queueSend',
        params: {
          record,
          ...(windowExpiresAt !== undefined ? { windowExpiresAt } : {}),
          tellAccepted: check('freeEntryPointEligible'),
        },
      });
      return;
    }
    enqueue({ type: 'recordMessage', params: record });
    enqueue({
      type: 'enqueueSend',
      params: {
        phoneNumberId: context.phoneNumberId,
        waId: context.waId,
        clientMessageId: event.clientMessageId,
        message: event.message,
        pricing,
      },
    });
  }),
);

export const conversationMachine = conversation.createMachine({
  id: 'conversation',
  type: 'parallel',
  context: ({ input }) => ({
    phoneNumberId: input.phoneNumberId,
    waId: input.waId,
    settings: { ...DEFAULT_CONVERSATION_SETTINGS, ...compact(input.settings ?? {}) },
    customerServiceWindow: {},
    freeEntryPoint: {},
    inbox: {},
    counts: { customer: 0, platform: 0, echoes: 0, history: 0 },
  }),
  states: {
    customerServiceWindow: {
      initial: 'closed',
      states: {
        closed: {
          on: {
            'customer.message': { guard: 'opensCustomerServiceWindow', target: 'open', actions: 'openCustomerServiceWindow' },
          },
        },
        // One pending check at a time, however many messages move the deadline: it re-arms
        // itself for the new deadline when it finds one.
        open: {
          entry: 'scheduleCustomerServiceWindowCheck',
          exit: 'cancelCustomerServiceWindowCheck',
          on: {
            'customer.message': { guard: 'opensCustomerServiceWindow', actions: 'extendCustomerServiceWindow' },
            'customerServiceWindow.check': [
              { guard: 'customerServiceWindowLapsed', target: 'closed', actions: 'closeCustomerServiceWindow' },
              { actions: 'scheduleCustomerServiceWindowCheck' },
            ],
            'send.failed': { guard: 'metaSaysWindowClosed', target: 'closed', actions: 'closeCustomerServiceWindow' },
            'message.status': { guard: 'metaSaysWindowClosed', target: 'closed', actions: 'closeCustomerServiceWindow' },
          },
        },
      },
    },

    // Pricing only (docs/meta.md#where-meta-is-unclear): a customer from an ad or Page call-to-action makes the
    // business's first reply inside the window start 72 h in which every message is free.
    freeEntryPoint: {
      initial: 'none',
      states: {
        none: {
          on: { 'customer.message': { guard: 'arrivesFromEntryPoint', target: 'eligible' } },
        },
        eligible: {
          always: { guard: not('customerServiceWindowOpen'), target: 'none' },
          on: {
            'send.accepted': { guard: 'customerServiceWindowOpen', target: 'open', actions: 'startFreeEntryPoint' },
          },
        },
        // The customer service window keeps its own clock: when it closes, only templates go.
        open: {
          after: { freeEntryPointWindow: 'none' },
        },
      },
    },

    // Every message and status is recorded here, once, whatever the windows do. Echoes and history
    // never open the inbox: "If the conversation is already closed on the Mumble side, it will
    // stay closed."
    inbox: {
      initial: 'closed',
      on: {
        'business.echo': { actions: ['countEcho', { type: 'recordMessage', params: echoRecord }] },
        'history.message': { actions: ['countHistoryMessage', { type: 'recordMessage', params: historyRecord }] },
        'message.status': [
          { guard: 'isFailedStatus', actions: ['noteRefusal', { type: 'recordStatus', params: statusUpdate }] },
          { actions: { type: 'recordStatus', params: statusUpdate } },
        ],
        'send.accepted': { actions: { type: 'recordStatus', params: statusUpdate } },
        'send.failed': { actions: ['noteRefusal', { type: 'recordStatus', params: statusUpdate }] },
        'send.unconfirmed': { actions: { type: 'recordStatus', params: statusUpdate } },
      },
      states: {
        closed: {
          on: {
            'customer.message': {
              target: 'open',
              actions: ['openInbox', 'noteCustomerMessage', { type: 'recordMessage', params: customerMessageRecord }],
            },
            send: { guard: 'canSendMessage', target: 'open', actions: ['openInbox', takeSend] },
          },
        },
        open: {
          on: {
            'customer.message': { actions: ['noteCustomerMessage', { type: 'recordMessage', params: customerMessageRecord }] },
            send: { guard: 'canSendMessage', actions: takeSend },
            'inbox.close': { target: 'closed', actions: 'closeInbox' },
          },
        },
      },
    },
  },
});

export type ConversationSnapshot = SnapshotFrom<typeof conversationMachine>;
