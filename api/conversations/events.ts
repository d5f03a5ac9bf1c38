/**
 * What a send request means to the conversation machine (as api/onboardings/events.ts for onboardings);
 * `at` is when the API received it (epoch ms).
 */
import type { ConversationEvent } from '../../machines/conversation';
import type { SendMessage } from './schemas';

export function sendEvent({ clientMessageId, message }: SendMessage, at: number): Extract<ConversationEvent, { type: 'send' }> {
  return { type: 'send', clientMessageId, message, at, by: 'backend' };
}
