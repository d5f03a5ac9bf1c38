import { windowOf } from '../../machines/conversation';
import type { Customer } from '../../store/customers';
import { presentCustomer } from './customer';
import type { ConversationView } from './schemas';
import type { ConversationMachineView } from './workflow';

/** What the backend sees of a conversation: its customer, its windows, what may be sent, the counts. */
export function presentConversation(view: ConversationMachineView, customer?: Customer) {
  const { phoneNumberId, waId, counts } = view.context;
  return {
    phoneNumberId,
    waId,
    customer: presentCustomer(waId, customer),
    ...windowOf(view.context, view.value),
    counts,
    state: view.state,
  } satisfies ConversationView;
}
