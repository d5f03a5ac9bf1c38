/**
 * A send as the number's queue keeps it, built from the conversation that took it: what the send
 * API records once the conversation's Update accepted a `send` (the machine decides, the caller
 * records, in one request). Pure.
 */
import type { ConversationEvent } from './events';
import type { QueueSendParams } from './effects';
import { windowOf, type ConversationState } from './read-model';
import { platformRecord } from './records';
import { predictPricing } from './rules';

export function queuedSend(state: ConversationState, event: Extract<ConversationEvent, { type: 'send' }>): QueueSendParams {
  const window = windowOf(state);
  const pricing = predictPricing(event.message, {
    customerServiceWindowOpen: window.customerServiceWindow.status === 'open',
    freeEntryPointOpen: window.freeEntryPoint.status === 'open',
  });
  const windowExpiresAt = event.message.type === 'template' ? undefined : window.customerServiceWindow.expiresAt;
  return {
    record: platformRecord(state.context, event, pricing),
    ...(windowExpiresAt !== undefined ? { windowExpiresAt } : {}),
    // The first reply of an entry-point conversation starts the free window once Meta accepts it.
    tellAccepted: window.freeEntryPoint.status === 'eligible',
  };
}
