/** What one conversation may be started with: its windows' lengths. */

export interface ConversationSettings {
  /** Meta's customer service window: 24 h from the customer's last message. */
  customerServiceWindowMs: number;
  /** Meta's free-entry-point window, from the business's first reply (72 h; disputed: docs/meta.md#where-meta-is-unclear). */
  freeEntryPointWindowMs: number;
  /**
   * Sends are recorded in the number's queue in one step (`queueSend`). Set by the workflow for
   * conversations started after the change; older ones keep `recordMessage` + `enqueueSend`.
   */
  queueInStore?: boolean;
}

export const DEFAULT_CONVERSATION_SETTINGS: ConversationSettings = {
  customerServiceWindowMs: 24 * 60 * 60_000,
  freeEntryPointWindowMs: 72 * 60 * 60_000,
};

export interface ConversationInput {
  phoneNumberId: string;
  /** The customer's WhatsApp id (digits only). */
  waId: string;
  settings?: Partial<ConversationSettings>;
}
