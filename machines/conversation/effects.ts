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
  /** Hands a send to the number's sender (conversations started before `queueSend`). */
  enqueueSend(params: EnqueueSendParams): Promise<void>;
  /**
   * Records a send in the number's queue (the message store) and wakes the sender if it sleeps:
   * the decision and its record in one step.
   */
  queueSend(params: QueueSendParams): Promise<void>;
}

/** A send as the queue keeps it: the message's record and what the sender needs to tell back. */
export interface QueueSendParams {
  record: MessageRecord;
  /**
   * Free-form messages: when the customer service window closes as the conversation sees it (epoch
   * ms). A later customer message moves it; past it the message is failed, never sent.
   */
  windowExpiresAt?: number;
  /** The conversation waits for Meta's acceptance (its first reply starts a free entry point window). */
  tellAccepted: boolean;
}

/** Hands a send to the number's sender (one queue a number, 20 messages/s). */
export interface EnqueueSendParams {
  phoneNumberId: string;
  waId: string;
  clientMessageId: string;
  message: OutboundContent;
  pricing: PricingClass;
}
