/** What the API shows of a conversation, and why a send is refused, read from its state. */
import type { StateValue } from 'xstate';
import type { ConversationContext } from './context';
import { compact, iso } from '../plain';

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
