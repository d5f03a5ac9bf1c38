/**
 * One conversation of a Coexistence number: a business phone_number_id and one customer wa_id,
 * written to from the WhatsApp Business app on the phone and from the Cloud API at once.
 *
 *   customerServiceWindow  closed ⇄ open      the customer's messages open it for 24 h (Meta)
 *   freeEntryPoint         none → eligible → open → none    pricing only, never gates sending
 *   inbox                  closed ⇄ open      the conversation as the platform's agents see it
 *
 * Only the customer opens the customer service window: echoes of what the business wrote in the
 * app, and chat history from before onboarding, never open, reset or extend it (meta-reference §4).
 * Outside it only templates may be sent.
 *
 * Pure: the message store and the sender queue are named actions (`recordMessage`, `recordStatus`,
 * `enqueueSend`) that the durable interpreter runs as activities (./effects). The context holds
 * counters and deadlines, never messages, so it stays the same size however long the conversation
 * runs. Times are epoch ms: `at` is when coexist received an event, `timestamp` is Meta's.
 */
import {
  and,
  assertEvent,
  assign,
  cancel,
  enqueueActions,
  not,
  or,
  raise,
  setup,
  stateIn,
  type SnapshotFrom,
  type StateValue,
} from 'xstate';
import {
  APP_ECHO_PRICING,
  INBOUND_PRICING,
  WINDOW_CLOSED_CODES,
  classifyInbound,
  metaPricing,
  predictPricing,
} from './conversation-rules';
import type { MessageRecord, MessageStatusUpdate, PricingClass } from './messages';

export { classifyInbound, predictPricing } from './conversation-rules';

// --- settings and input -------------------------------------------------------------------------

export interface ConversationSettings {
  /** Meta's customer service window: 24 h from the customer's last message. */
  customerServiceWindowMs: number;
  /** Meta's free-entry-point window, from the business's first reply (72 h; disputed, §8). */
  freeEntryPointWindowMs: number;
}

export const DEFAULT_CONVERSATION_SETTINGS: ConversationSettings = {
  customerServiceWindowMs: 24 * 60 * 60_000,
  freeEntryPointWindowMs: 72 * 60 * 60_000,
};

export interface ConversationInput {
  phoneNumberId: string;
  /** The customer's WhatsApp id (digits only). */
  waId: string;
  settings?: Partial<ConversationSettings>;
}

// --- messages as the events carry them --------------------------------------------------------------

/** Click-to-WhatsApp ad or Facebook Page call-to-action the customer came from (`referral`). */
export interface Referral {
  sourceType: string;
  sourceId?: string;
  ctwaClid?: string;
}

export interface MetaError {
  code: number;
  title?: string;
}

/** A message from the customer (`messages` webhook). */
export interface InboundMessage {
  /** wamid */
  id: string;
  /** Meta's time, epoch ms. */
  timestamp: number;
  /** Meta's type verbatim (`text`, `image`, `unsupported`, ...). */
  type: string;
  /** Everything else of the message, as Meta sent it (`{ text: { body } }`, `{ unsupported: { type } }`, ...). */
  content: Record<string, unknown>;
  referral?: Referral;
  errors?: MetaError[];
  profileName?: string;
}

/** A message the business sent from the phone app or a companion (`smb_message_echoes`). */
export interface EchoedMessage {
  id: string;
  timestamp: number;
  type: string;
  content: Record<string, unknown>;
}

/** A message from before onboarding (`history`); `timestamp` is the device's time. */
export interface HistoryMessage extends EchoedMessage {
  fromBusiness: boolean;
}

/** Meta's `statuses[].pricing`. */
export interface MetaPricing {
  billable: boolean;
  /** `regular`, `free_customer_service`, `free_entry_point`, or a type Meta adds later. */
  type: string;
  category?: string;
}

/** A status webhook of one of our messages (`statuses[]`). */
export interface StatusReport {
  wamid: string;
  status: 'sent' | 'delivered' | 'read' | 'failed' | 'played';
  /** epoch ms */
  timestamp: number;
  /** `biz_opaque_callback_data`: our client message id, when the send carried it. */
  clientMessageId?: string;
  pricing?: MetaPricing;
  errors?: MetaError[];
}

export type TemplateCategory = 'marketing' | 'utility' | 'authentication';
export type MediaType = 'image' | 'document' | 'audio' | 'video' | 'sticker';
export interface MediaContent {
  /** Media id from Meta's upload, or a public `link`. */
  id?: string;
  link?: string;
  caption?: string;
}

/** What the backend asks coexist to send; `type` names the content's key, as in Meta's API. */
export type OutboundContent =
  | { type: 'text'; text: { body: string; previewUrl?: boolean } }
  | {
      type: 'template';
      template: { name: string; language: string; category?: TemplateCategory; components?: unknown[] };
    }
  | { type: 'image'; image: MediaContent }
  | { type: 'document'; document: MediaContent }
  | { type: 'audio'; audio: MediaContent }
  | { type: 'video'; video: MediaContent }
  | { type: 'sticker'; sticker: MediaContent }
  | { type: 'reaction'; reaction: { messageId: string; emoji: string } }
  | { type: 'interactive'; interactive: Record<string, unknown> };

// --- events -------------------------------------------------------------------------------------

/** Events from outside: webhooks, the backend, the per-number sender. `at`: when coexist got it. */
export type ConversationExternalEvent =
  | { type: 'customer.message'; message: InboundMessage; at: number }
  | { type: 'business.echo'; message: EchoedMessage; at: number }
  | { type: 'history.message'; message: HistoryMessage; at: number }
  | { type: 'message.status'; status: StatusReport; at: number }
  | { type: 'send'; clientMessageId: string; message: OutboundContent; at: number; by?: string }
  /** Meta answered 200 with the message's wamid. */
  | { type: 'send.accepted'; clientMessageId: string; wamid: string; at: number }
  /** Meta refused the send; without `code` when it failed before Meta answered with one. */
  | { type: 'send.failed'; clientMessageId: string; code?: number; title?: string; at: number }
  /** The request may have reached Meta (timeout): never resent, a status webhook settles it. */
  | { type: 'send.unconfirmed'; clientMessageId: string; at: number }
  | { type: 'inbox.close'; at: number; by?: string };

/** The window's one timer: when it fires, the deadline is compared with the time it was set for. */
export type CustomerServiceWindowCheck = { type: 'customerServiceWindow.check'; scheduledFor: number };

export type ConversationEvent = ConversationExternalEvent | CustomerServiceWindowCheck;

// --- effects (activities) -------------------------------------------------------------------------

/** Hands a send to the number's sender (one queue a number, 20 messages/s). */
export interface EnqueueSendParams {
  phoneNumberId: string;
  waId: string;
  clientMessageId: string;
  message: OutboundContent;
  pricing: PricingClass;
}

// --- context --------------------------------------------------------------------------------------

export interface MessageCounts {
  customer: number;
  /** Sends taken from the backend (Cloud API). */
  platform: number;
  /** Sent from the phone app (`smb_message_echoes`). */
  echoes: number;
  history: number;
}

export interface ConversationContext {
  phoneNumberId: string;
  waId: string;
  settings: ConversationSettings;
  customerServiceWindow: {
    /** Meta's time of the customer message that opened the current window. */
    openedAt?: number;
    /** While open: the latest customer message time + 24 h. Cleared when the window closes. */
    expiresAt?: number;
    closedAt?: number;
    /** `expiry`: 24 h without a customer message; `meta`: a send failed with 131047. */
    closedBy?: 'expiry' | 'meta';
  };
  freeEntryPoint: { startedAt?: number; expiresAt?: number };
  inbox: { openedAt?: number; closedAt?: number; closedBy?: string };
  /** The last entry point the customer came from (ad or Page call-to-action). */
  referral?: Referral & { messageId: string; at: number };
  counts: MessageCounts;
  /** Meta's time of the newest customer message. */
  lastCustomerMessageAt?: number;
  profileName?: string;
  /** The last send Meta refused (send result or `failed` status). */
  lastRefusal?: { clientMessageId?: string; wamid?: string; code?: number; title?: string; at: number };
}

// --- read model -----------------------------------------------------------------------------------

export type CustomerServiceWindowStatus = 'closed' | 'open';
export type FreeEntryPointStatus = 'none' | 'eligible' | 'open';
export type InboxStatus = 'closed' | 'open';

/** A snapshot, or what the interpreter's state query shows (value and context). */
export interface ConversationState {
  value: StateValue;
  context: ConversationContext;
}

/** What the read API shows of a conversation's windows (times epoch ms). */
export interface ConversationWindow {
  customerServiceWindow: { status: CustomerServiceWindowStatus; expiresAt?: number; openedAt?: number };
  freeEntryPoint: { status: FreeEntryPointStatus; expiresAt?: number };
  inbox: InboxStatus;
  /** Free-form messages only inside the customer service window; templates always. */
  allowedToSend: 'any' | 'templates_only';
}

export function windowOf(state: ConversationState): ConversationWindow;
export function windowOf(context: ConversationContext, value: StateValue): ConversationWindow;
export function windowOf(stateOrContext: ConversationState | ConversationContext, maybeValue?: StateValue): ConversationWindow {
  const { value, context } =
    maybeValue === undefined
      ? (stateOrContext as ConversationState)
      : { value: maybeValue, context: stateOrContext as ConversationContext };
  const regions = value as {
    customerServiceWindow: CustomerServiceWindowStatus;
    freeEntryPoint: FreeEntryPointStatus;
    inbox: InboxStatus;
  };
  const csw = regions.customerServiceWindow;
  const fep = regions.freeEntryPoint;
  return {
    customerServiceWindow:
      csw === 'open'
        ? compact({
            status: csw,
            expiresAt: context.customerServiceWindow.expiresAt,
            openedAt: context.customerServiceWindow.openedAt,
          })
        : { status: csw },
    freeEntryPoint: fep === 'open' ? compact({ status: fep, expiresAt: context.freeEntryPoint.expiresAt }) : { status: fep },
    inbox: regions.inbox,
    allowedToSend: csw === 'open' ? 'any' : 'templates_only',
  };
}

/** Any event as the interpreter hands it over (a signal's payload is not validated). */
export type AnyEvent = { type: string; [key: string]: unknown };

export interface SendRefusal {
  code: 'customer_service_window_closed';
  message: string;
  hint: string;
}

/**
 * Why a `send` is refused, in the user's words: a free-form message outside the customer service
 * window (the only send this machine refuses). Undefined for anything it takes.
 */
export function sendRefusal(state: ConversationState, event: AnyEvent): SendRefusal | undefined {
  if (event.type !== 'send') return undefined;
  const message = event.message as { type?: unknown } | undefined;
  if (message?.type === 'template') return undefined;
  if (windowOf(state).customerServiceWindow.status === 'open') return undefined;
  const { closedAt, closedBy } = state.context.customerServiceWindow;
  const since =
    closedAt === undefined
      ? 'has never been opened: the customer has not written since the number was connected'
      : closedBy === 'meta'
        ? `closed since ${iso(closedAt)} (Meta refused a free-form message with 131047: more than 24 hours since the customer's last message)`
        : `closed since ${iso(closedAt)}, 24 hours after the customer's last message`;
  return {
    code: 'customer_service_window_closed',
    message: `The customer service window ${since}. Free-form messages cannot be sent outside it.`,
    hint:
      'Send an approved message template: the customer needs to write to you, or the first send needs to be made ' +
      'from Mumble using a message template. Messages written in the WhatsApp Business app do not open the window.',
  };
}

// --- dedupe -----------------------------------------------------------------------------------------

/**
 * The key under which the interpreter drops a repeated event: Meta redelivers webhooks for up to
 * 7 days (§3.11), and a backend may retry a send. Undefined: never a duplicate.
 */
export function conversationDedupeKey(event: AnyEvent): string | undefined {
  switch (event.type) {
    case 'customer.message':
    case 'business.echo':
    case 'history.message': {
      const id = (event.message as { id?: unknown } | undefined)?.id;
      return typeof id === 'string' ? `message:${id}` : undefined;
    }
    case 'message.status': {
      const status = event.status as { wamid?: unknown; status?: unknown } | undefined;
      return typeof status?.wamid === 'string' && typeof status.status === 'string'
        ? `status:${status.wamid}:${status.status}`
        : undefined;
    }
    case 'send':
      return typeof event.clientMessageId === 'string' ? `send:${event.clientMessageId}` : undefined;
    case 'send.accepted':
    case 'send.failed':
    case 'send.unconfirmed':
      return typeof event.clientMessageId === 'string' ? `${event.type}:${event.clientMessageId}` : undefined;
    default:
      return undefined;
  }
}

// --- records ------------------------------------------------------------------------------------------

type Args = { context: ConversationContext; event: ConversationEvent };

function customerMessageRecord({ context, event }: Args): MessageRecord {
  assertEvent(event, 'customer.message');
  const { message } = event;
  const error = message.errors?.[0];
  return compact({
    ...messageRecord(context, message, event.at),
    direction: 'inbound' as const,
    source: 'customer' as const,
    errorCode: error?.code,
    errorTitle: error?.title,
    pricing: INBOUND_PRICING,
    notice: classifyInbound(message),
  });
}

function echoRecord({ context, event }: Args): MessageRecord {
  assertEvent(event, 'business.echo');
  return compact({
    ...messageRecord(context, event.message, event.at),
    direction: 'outbound' as const,
    source: 'app_echo' as const,
    pricing: APP_ECHO_PRICING,
    notice: classifyInbound(event.message),
  });
}

function historyRecord({ context, event }: Args): MessageRecord {
  assertEvent(event, 'history.message');
  const { fromBusiness, ...message } = event.message;
  return compact({
    ...messageRecord(context, message, event.at),
    direction: fromBusiness ? ('outbound' as const) : ('inbound' as const),
    source: 'history' as const,
    pricing: fromBusiness ? APP_ECHO_PRICING : INBOUND_PRICING,
    notice: classifyInbound(message),
  });
}

function messageRecord(context: ConversationContext, message: EchoedMessage, at: number) {
  return {
    id: message.id,
    wamid: message.id,
    phoneNumberId: context.phoneNumberId,
    waId: context.waId,
    type: message.type,
    content: message.content,
    timestamp: message.timestamp,
    status: 'received' as const,
    statusAt: at,
  };
}

function platformRecord(
  context: ConversationContext,
  event: Extract<ConversationEvent, { type: 'send' }>,
  pricing: PricingClass,
): MessageRecord {
  const { type, ...content } = event.message;
  return {
    id: `client:${event.clientMessageId}`,
    clientMessageId: event.clientMessageId,
    phoneNumberId: context.phoneNumberId,
    waId: context.waId,
    direction: 'outbound',
    source: 'platform',
    type,
    content,
    timestamp: event.at,
    status: 'queued',
    statusAt: event.at,
    pricing,
  };
}

/** A send result or a status webhook, applied to the message it names. */
function statusUpdate({ context, event }: Args): MessageStatusUpdate {
  const who = { phoneNumberId: context.phoneNumberId, waId: context.waId };
  switch (event.type) {
    case 'send.accepted':
      return { ...who, clientMessageId: event.clientMessageId, wamid: event.wamid, status: 'accepted', timestamp: event.at };
    case 'send.failed':
      return compact({
        ...who,
        clientMessageId: event.clientMessageId,
        status: 'failed' as const,
        timestamp: event.at,
        errorCode: event.code,
        errorTitle: event.title,
      });
    case 'send.unconfirmed':
      return { ...who, clientMessageId: event.clientMessageId, status: 'unconfirmed', timestamp: event.at };
    case 'message.status': {
      const { status } = event;
      const error = status.errors?.[0];
      return compact({
        ...who,
        wamid: status.wamid,
        clientMessageId: status.clientMessageId,
        status: status.status,
        timestamp: status.timestamp,
        errorCode: error?.code,
        errorTitle: error?.title,
        pricing: status.pricing ? metaPricing(status.pricing) : undefined,
      });
    }
    default:
      throw new Error(`${event.type} carries no message status`);
  }
}

// --- machine --------------------------------------------------------------------------------------

const CUSTOMER_SERVICE_WINDOW_CHECK = 'customerServiceWindow.check';

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
    recordMessage: (_, _params: MessageRecord) => {},
    recordStatus: (_, _params: MessageStatusUpdate) => {},
    enqueueSend: (_, _params: EnqueueSendParams) => {},

    // Shuffled deliveries never move the deadline backwards.
    extendCustomerServiceWindow: assign(({ context, event }) => {
      assertEvent(event, 'customer.message');
      const deadline = event.message.timestamp + context.settings.customerServiceWindowMs;
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
          openedAt: event.message.timestamp,
          expiresAt: event.message.timestamp + context.settings.customerServiceWindowMs,
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
      return {
        counts: { ...context.counts, customer: context.counts.customer + 1 },
        lastCustomerMessageAt: Math.max(context.lastCustomerMessageAt ?? message.timestamp, message.timestamp),
        profileName: message.profileName || context.profileName,
        referral: message.referral ? { ...message.referral, messageId: message.id, at: message.timestamp } : context.referral,
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
      event.type === 'customer.message' && event.message.timestamp + context.settings.customerServiceWindowMs > event.at,
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
    isTemplateSend: ({ event }) => event.type === 'send' && event.message.type === 'template',
    customerServiceWindowOpen: stateIn({ customerServiceWindow: 'open' }),
    freeEntryPointOpen: stateIn({ freeEntryPoint: 'open' }),
    /** Templates always; free-form only inside the customer service window (the FEP window never decides). */
    canSendMessage: or(['isTemplateSend', 'customerServiceWindowOpen']),
  },
  delays: {
    freeEntryPointWindow: ({ context }) => context.settings.freeEntryPointWindowMs,
  },
});

/** Records the queued message, then hands it to the sender, priced by the windows it leaves in. */
const takeSend = conversation.createAction(
  enqueueActions(({ context, event, enqueue, check }) => {
    assertEvent(event, 'send');
    const pricing = predictPricing(event.message, {
      customerServiceWindowOpen: check('customerServiceWindowOpen'),
      freeEntryPointOpen: check('freeEntryPointOpen'),
    });
    enqueue.assign({ counts: { ...context.counts, platform: context.counts.platform + 1 } });
    enqueue({ type: 'recordMessage', params: platformRecord(context, event, pricing) });
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

    // Pricing only (meta-reference §8): a customer from an ad or Page call-to-action makes the
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

// --- helpers ------------------------------------------------------------------------------------------

/** The object without its undefined fields: records and context stay plain JSON. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
