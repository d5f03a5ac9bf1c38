/**
 * What the conversation machine asks the world to do: its custom actions, each run by the durable
 * interpreter as the activity of the same name. activities/conversations.ts `satisfies
 * ConversationEffects`, and the machine's action names are typed from it.
 */
import type { OutboundContent } from './events';
import type { MessageRecord, MessageStatusUpdate, PricingClass } from './messages';

export interface ConversationEffects {
  /** Writes a message once, by id, to the message store. */
  recordMessage(record: MessageRecord): Promise<void>;
  /** Moves a stored message's status forward. */
  recordStatus(update: MessageStatusUpdate): Promise<void>;
  /** Hands a send to the number's sender. */
  enqueueSend(params: EnqueueSendParams): Promise<void>;
}

/** Hands a send to the number's sender (one queue a number, 20 messages/s). */
export interface EnqueueSendParams {
  phoneNumberId: string;
  waId: string;
  clientMessageId: string;
  message: OutboundContent;
  pricing: PricingClass;
}
