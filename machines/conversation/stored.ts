/**
 * A conversation as the message store knows it, so that the send API decides a send without a
 * workflow task (store/conversations.ts keeps it): what only the machine knows (the inbox, the free
 * entry point, how the customer service window last opened or closed), written by the conversation
 * workflow whenever it changes, beside what the store learns itself from the messages it records
 * (the customer's newest message, the counts). Pure.
 */
import type { MessageCounts } from './context';
import type { ConversationWindow, ConversationState, FreeEntryPointStatus, InboxStatus } from './read-model';
import { windowOf } from './read-model';

/** What the conversation workflow keeps in the store: it changes rarely, never per message. */
export interface ConversationRow {
  phoneNumberId: string;
  waId: string;
  /** The conversation's own window length (its settings). */
  customerServiceWindowMs: number;
  inbox: InboxStatus;
  /** As the machine last saw it: `open` is judged again against the customer's newest message. */
  customerServiceWindow: { status: 'open' | 'closed'; openedAt?: number; closedAt?: number; closedBy?: 'expiry' | 'meta' };
  freeEntryPoint: { status: FreeEntryPointStatus; expiresAt?: number };
}

/** What the store reads back for one conversation. */
export interface StoredConversation {
  /** Undefined until the conversation's inbox first opened, or for conversations started before the row. */
  row?: ConversationRow;
  /** Meta's time of the customer's newest message (epoch ms), and when coexist received the newest one. */
  lastCustomerMessageAt?: number;
  lastCustomerReceivedAt?: number;
  counts: MessageCounts;
}

/** The row of a conversation's state; undefined before its inbox ever opened (no row stands for that). */
export function conversationRow({ value, context }: ConversationState): ConversationRow | undefined {
  if (context.inbox.openedAt === undefined) return undefined;
  const window = windowOf(context, value);
  const { openedAt, closedAt, closedBy } = context.customerServiceWindow;
  return {
    phoneNumberId: context.phoneNumberId,
    waId: context.waId,
    customerServiceWindowMs: context.settings.customerServiceWindowMs,
    inbox: window.inbox,
    customerServiceWindow: {
      status: window.customerServiceWindow.status,
      ...(openedAt !== undefined ? { openedAt } : {}),
      ...(window.customerServiceWindow.status === 'closed' && closedAt !== undefined ? { closedAt } : {}),
      ...(window.customerServiceWindow.status === 'closed' && closedBy !== undefined ? { closedBy } : {}),
    },
    freeEntryPoint: window.freeEntryPoint,
  };
}

/**
 * The windows at `now` from the store, as the machine would show them: the customer service window
 * is open while the customer's newest message is younger than the window's length, unless the
 * machine closed it (Meta said so) and no customer message came in since. The free entry point's
 * window is compared with `now`; its eligibility lasts while the customer service window is open.
 * Undefined without a row.
 */
export function storedWindow(stored: StoredConversation, now: number): ConversationWindow | undefined {
  const { row, lastCustomerMessageAt, lastCustomerReceivedAt } = stored;
  if (!row) return undefined;
  const expiresAt = lastCustomerMessageAt !== undefined ? lastCustomerMessageAt + row.customerServiceWindowMs : undefined;
  const reopened =
    row.customerServiceWindow.status === 'open' ||
    (lastCustomerReceivedAt !== undefined && lastCustomerReceivedAt > (row.customerServiceWindow.closedAt ?? 0));
  const open = expiresAt !== undefined && expiresAt > now && reopened;
  const fep = row.freeEntryPoint;
  const freeEntryPoint =
    fep.status === 'open' && (fep.expiresAt ?? 0) > now
      ? { status: 'open' as const, expiresAt: fep.expiresAt! }
      : fep.status === 'eligible' && open
        ? { status: 'eligible' as const }
        : { status: 'none' as const };
  const openedAt = row.customerServiceWindow.openedAt;
  return {
    customerServiceWindow: open
      ? {
          status: 'open',
          expiresAt,
          ...(row.customerServiceWindow.status === 'open' && openedAt !== undefined ? { openedAt } : {}),
        }
      : { status: 'closed' },
    freeEntryPoint,
    inbox: row.inbox,
    allowedToSend: open ? 'any' : 'templates_only',
  };
}

/** A window as the machine's state value (`customerServiceWindow`, `freeEntryPoint`, `inbox`). */
export function stateValueOf(window: ConversationWindow) {
  return {
    customerServiceWindow: window.customerServiceWindow.status,
    freeEntryPoint: window.freeEntryPoint.status,
    inbox: window.inbox,
  };
}
