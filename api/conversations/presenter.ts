import { windowOf } from '../../machines/conversation';
import type { ConversationView } from './schemas';
import type { ConversationMachineView } from './workflow';

/** What the backend sees of a conversation: its windows, what may be sent, the counts. */
export function presentConversation(view: ConversationMachineView) {
  const { phoneNumberId, waId, counts } = view.context;
  return { phoneNumberId, waId, ...windowOf(view.context, view.value), counts, state: view.state } satisfies ConversationView;
}
