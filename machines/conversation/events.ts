/** Everything a conversation reacts to, with the messages as Meta's webhooks carry them. */

/** Click-to-WhatsApp ad or Facebook Page call-to-action the customer came from (`referral`). */
export interface Referral {
  sourceType: string;
  sourceId?: string;
  ctwaClid?: string;
}

export interface MetaError {
  code: number;
  title?: string;
}

/** A message from the customer (`messages` webhook). */
export interface InboundMessage {
  /** wamid */
  id: string;
  /** Meta's time, epoch ms. */
  timestamp: number;
  /** Meta's type verbatim (`text`, `image`, `unsupported`, ...). */
  type: string;
  /** Everything else of the message, as Meta sent it (`{ text: { body } }`, `{ unsupported: { type } }`, ...). */
  content: Record<string, unknown>;
  referral?: Referral;
  errors?: MetaError[];
  profileName?: string;
}

/** A message the business sent from the phone app or a companion (`smb_message_echoes`). */
export interface EchoedMessage {
  id: string;
  timestamp: number;
  type: string;
  content: Record<string, unknown>;
}

/** A message from before onboarding (`history`); `timestamp` is the device's time. */
export interface HistoryMessage extends EchoedMessage {
  fromBusiness: boolean;
}

/** Meta's `statuses[].pricing`. */
export interface MetaPricing {
  billable: boolean;
  /** `regular`, `free_customer_service`, `free_entry_point`, or a type Meta adds later. */
  type: string;
  category?: string;
}

/** A status webhook of one of our messages (`statuses[]`). */
export interface StatusReport {
  wamid: string;
  status: 'sent' | 'delivered' | 'read' | 'failed' | 'played';
  /** epoch ms */
  timestamp: number;
  /** `biz_opaque_callback_data`: our client message id, when the send carried it. */
  clientMessageId?: string;
  pricing?: MetaPricing;
  errors?: MetaError[];
}

export type TemplateCategory = 'marketing' | 'utility' | 'authentication';
export type MediaType = 'image' | 'document' | 'audio' | 'video' | 'sticker';
export interface MediaContent {
  /** Media id from Meta's upload, or a public `link`. */
  id?: string;
  link?: string;
  caption?: string;
}

/** What the backend asks coexist to send; `type` names the content's key, as in Meta's API. */
export type OutboundContent =
  | { type: 'text'; text: { body: string; previewUrl?: boolean } }
  | {
      type: 'template';
      template: { name: string; language: string; category?: TemplateCategory; components?: unknown[] };
    }
  | { type: 'image'; image: MediaContent }
  | { type: 'document'; document: MediaContent }
  | { type: 'audio'; audio: MediaContent }
  | { type: 'video'; video: MediaContent }
  | { type: 'sticker'; sticker: MediaContent }
  | { type: 'reaction'; reaction: { messageId: string; emoji: string } }
  | { type: 'interactive'; interactive: Record<string, unknown> };

/** Events from outside: webhooks, the backend, the per-number sender. `at`: when coexist got it. */
export type ConversationExternalEvent =
  | { type: 'customer.message'; message: InboundMessage; at: number }
  | { type: 'business.echo'; message: EchoedMessage; at: number }
  | { type: 'history.message'; message: HistoryMessage; at: number }
  | { type: 'message.status'; status: StatusReport; at: number }
  | {
      type: 'send';
      clientMessageId: string;
      message: OutboundContent;
      at: number;
      by?: string;
      /**
       * The caller (the send API) records the send in the number's queue itself once the machine
       * took it (./queued-send): the machine only decides and counts.
       */
      recordedByCaller?: boolean;
    }
  /** Meta answered 200 with the message's wamid. */
  | { type: 'send.accepted'; clientMessageId: string; wamid: string; at: number }
  /** Meta refused the send; without `code` when it failed before Meta answered with one. */
  | { type: 'send.failed'; clientMessageId: string; code?: number; title?: string; at: number }
  /** The request may have reached Meta (timeout): never resent, a status webhook settles it. */
  | { type: 'send.unconfirmed'; clientMessageId: string; at: number }
  | { type: 'inbox.close'; at: number; by?: string };

/** The window's one timer: when it fires, the deadline is compared with the time it was set for. */
export type CustomerServiceWindowCheck = { type: 'customerServiceWindow.check'; scheduledFor: number };

export type ConversationEvent = ConversationExternalEvent | CustomerServiceWindowCheck;
