/**
 * Messages of one conversation as coexist records them (docs/meta.md#webhooks, #sending): the shape
 * the conversation machine hands to its `recordMessage` / `recordStatus` effects, the message store
 * keeps, and the read API shows. Types only.
 */

/** Who wrote it: the customer, the platform (Cloud API send), the phone app (echo), or history sync. */
export type MessageSource = 'customer' | 'platform' | 'app_echo' | 'history';
export type MessageDirection = 'inbound' | 'outbound';

/** Meta's delivery statuses in their order; a status never moves backwards (`failed` ends it). */
export const MESSAGE_STATUS_ORDER = [
  'queued',
  'unconfirmed',
  'accepted',
  'sent',
  'delivered',
  'read',
  'played',
  'failed',
] as const;
/**
 * `queued`: accepted by coexist, waiting in the number's send queue. `held`: queued while the
 * number cannot send (payment missing, offboarded, restricted...): `reason` says why; it goes out
 * when sending clears, or fails after the hold limit. `unconfirmed`: the send may have reached
 * Meta (a timeout after the request left) and is never repeated; a status webhook carrying our
 * client message id settles it. `accepted`: Meta answered 200 with a wamid (not yet `sent`).
 * `received`: an inbound, echoed or history message.
 */
export type MessageStatus = (typeof MESSAGE_STATUS_ORDER)[number] | 'held' | 'received';

/** Statuses of a send still in the number's queue: ranked with `queued`, only the sender moves between them. */
export const QUEUED_STATUSES = ['queued', 'held'] as const;

/** What a message costs and why (statuses' `pricing` is Meta's final word). */
export interface PricingClass {
  billable: boolean;
  /**
   * `business_app`: sent from the phone app, never billed by the Cloud API. Otherwise Meta's
   * `pricing.type` (`free_customer_service`, `free_entry_point`, `regular`) when known, or coexist's
   * prediction at send time.
   */
  type: 'business_app' | 'inbound' | 'free_customer_service' | 'free_entry_point' | 'regular';
  /** Meta's category: `service`, `marketing`, `utility`, `authentication`, ... */
  category?: string;
  /** `meta` once a status webhook carried Meta's pricing; `predicted` before. */
  basis: 'predicted' | 'meta';
}

/** A message that coexist cannot show in full, with the help article's words for why. */
export interface MessageNotice {
  code: string;
  message: string;
}

export interface MessageRecord {
  /** Meta's message id (wamid); for a platform send before Meta answered: `client:<clientMessageId>`. */
  id: string;
  wamid?: string;
  /** The backend's id for a platform send (idempotency key, `biz_opaque_callback_data`). */
  clientMessageId?: string;
  phoneNumberId: string;
  /** The customer's WhatsApp id (digits only). */
  waId: string;
  direction: MessageDirection;
  source: MessageSource;
  /** Meta's message type (`text`, `image`, `template`, `unsupported`, ...), kept verbatim. */
  type: string;
  /** The message's content as Meta sent or coexist sent it (text body, template, media id, ...). */
  content: Record<string, unknown>;
  /** When it was written (Meta's `timestamp`, or coexist's accept time for a queued send), epoch ms. */
  timestamp: number;
  status: MessageStatus;
  statusAt?: number;
  /** Meta's error code for a failed send or an `unsupported` inbound message. */
  errorCode?: number;
  errorTitle?: string;
  pricing: PricingClass;
  notice?: MessageNotice;
  /**
   * coexist's own word on a send it holds or failed without Meta: the number's sending-block reason
   * while `held` (`payment_missing`, `offboarded`...), `customer_service_window_closed` or
   * `hold_limit_reached` once failed.
   */
  reason?: string;
  /** What the business can do about `reason`, in the help article's words. */
  remedy?: string;
}

/** A status webhook (or a send result) applied to an existing message. */
export interface MessageStatusUpdate {
  phoneNumberId: string;
  waId: string;
  /** One of the two identifies the message. */
  wamid?: string;
  clientMessageId?: string;
  status: Exclude<MessageStatus, 'received' | 'held'>;
  /** epoch ms */
  timestamp: number;
  errorCode?: number;
  errorTitle?: string;
  pricing?: PricingClass;
}
