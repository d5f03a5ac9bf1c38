import { stateValueOf, type ConversationWindow, type MessageCounts } from '../../machines/conversation';
import { formatStateValue } from '../../contracts/machine-api';
import type { Customer } from '../../store/customers';
import { presentCustomer } from './customer';
import type { ConversationView } from './schemas';

/**
 * What the backend sees of a conversation: its customer, its windows (from its machine, or from the
 * store's row for a send decided there), what may be sent, and the counts (the message store's: the
 * machine does not see every send).
 */
export function presentConversation(
  { phoneNumberId, waId }: { phoneNumberId: string; waId: string },
  window: ConversationWindow,
  counts: MessageCounts,
  customer?: Customer,
) {
  return {
    phoneNumberId,
    waId,
    customer: presentCustomer(waId, customer),
    ...window,
    counts,
    state: formatStateValue(stateValueOf(window)),
  } satisfies ConversationView;
}
