/** What a conversation remembers: counters, deadlines and the last refusal, never messages. */
import type { Referral } from './events';
import type { ConversationSettings } from './settings';

export interface MessageCounts {
  customer: number;
  /** Sends taken from the backend (Cloud API). */
  platform: number;
  /** Sent from the phone app (`smb_message_echoes`). */
  echoes: number;
  history: number;
}

export interface ConversationContext {
  phoneNumberId: string;
  waId: string;
  settings: ConversationSettings;
  customerServiceWindow: {
    /** Meta's time of the customer message that opened the current window. */
    openedAt?: number;
    /** While open: the latest customer message time + 24 h. Cleared when the window closes. */
    expiresAt?: number;
    closedAt?: number;
    /** `expiry`: 24 h without a customer message; `meta`: a send failed with 131047. */
    closedBy?: 'expiry' | 'meta';
  };
  freeEntryPoint: { startedAt?: number; expiresAt?: number };
  inbox: { openedAt?: number; closedAt?: number; closedBy?: string };
  /** The last entry point the customer came from (ad or Page call-to-action). */
  referral?: Referral & { messageId: string; at: number };
  counts: MessageCounts;
  /** Meta's time of the newest customer message. */
  lastCustomerMessageAt?: number;
  profileName?: string;
  /** The last send Meta refused (send result or `failed` status). */
  lastRefusal?: { clientMessageId?: string; wamid?: string; code?: number; title?: string; at: number };
}
