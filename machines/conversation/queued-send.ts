/**
 * A send as the number's queue keeps it, priced by the windows it is decided in: what the send API
 * records once the send was decided (from the store's row of the conversation, or by the
 * conversation's Update when there is none). Pure.
 */
import type { ConversationContext } from './context';
import type { ConversationEvent } from './events';
import type { QueueSendParams } from './effects';
import type { ConversationWindow } from './read-model';
import { platformRecord } from './records';
import { predictPricing } from './rules';

export function queuedSend(
  conversation: Pick<ConversationContext, 'phoneNumberId' | 'waId'>,
  window: ConversationWindow,
  event: Extract<ConversationEvent, { type: 'send' }>,
): QueueSendParams {
  const pricing = predictPricing(event.message, {
    customerServiceWindowOpen: window.customerServiceWindow.status === 'open',
    freeEntryPointOpen: window.freeEntryPoint.status === 'open',
  });
  const windowExpiresAt = event.message.type === 'template' ? undefined : window.customerServiceWindow.expiresAt;
  return {
    record: platformRecord(conversation, event, pricing),
    ...(windowExpiresAt !== undefined ? { windowExpiresAt } : {}),
    // The first reply of an entry-point conversation starts the free window once Meta accepts it.
    tellAccepted: window.freeEntryPoint.status === 'eligible',
  };
}
