/** The message store's records, built from the conversation's events. */
import { assertEvent } from 'xstate';
import type { ConversationContext } from './context';
import type { ConversationEvent, EchoedMessage } from './events';
import type { MessageRecord, MessageStatusUpdate, PricingClass } from './messages';
import { compact } from '../plain';
import { APP_ECHO_PRICING, classifyInbound, INBOUND_PRICING, metaPricing } from './rules';

type Args = { context: ConversationContext; event: ConversationEvent };

/**
 * When Meta says something happened (epoch ms), never after the second in which coexist received
 * it (`at`, the workflow's clock): a sender's clock far ahead can neither hold a window open nor
 * pin a message to the top of the newest-first list (docs/meta.md#times-in-webhooks).
 */
export function happenedAt(timestamp: number, at: number): number {
  return Math.min(timestamp, Math.floor(at / 1000) * 1000);
}

export function customerMessageRecord({ context, event }: Args): MessageRecord {
  assertEvent(event, 'customer.message');
  const { message } = event;
  const error = message.errors?.[0];
  return compact({
    ...messageRecord(context, message, event.at),
    direction: 'inbound' as const,
    source: 'customer' as const,
    errorCode: error?.code,
    errorTitle: error?.title,
    pricing: INBOUND_PRICING,
    notice: classifyInbound(message),
  });
}

export function echoRecord({ context, event }: Args): MessageRecord {
  assertEvent(event, 'business.echo');
  return compact({
    ...messageRecord(context, event.message, event.at),
    direction: 'outbound' as const,
    source: 'app_echo' as const,
    pricing: APP_ECHO_PRICING,
    notice: classifyInbound(event.message),
  });
}

export function historyRecord({ context, event }: Args): MessageRecord {
  assertEvent(event, 'history.message');
  const { fromBusiness, ...message } = event.message;
  return compact({
    ...messageRecord(context, message, event.at),
    direction: fromBusiness ? ('outbound' as const) : ('inbound' as const),
    source: 'history' as const,
    pricing: fromBusiness ? APP_ECHO_PRICING : INBOUND_PRICING,
    notice: classifyInbound(message),
  });
}

export function messageRecord(context: ConversationContext, message: EchoedMessage, at: number) {
  return {
    id: message.id,
    wamid: message.id,
    phoneNumberId: context.phoneNumberId,
    waId: context.waId,
    type: message.type,
    content: message.content,
    timestamp: happenedAt(message.timestamp, at),
    status: 'received' as const,
    statusAt: at,
  };
}

export function platformRecord(
  context: Pick<ConversationContext, 'phoneNumberId' | 'waId'>,
  event: Extract<ConversationEvent, { type: 'send' }>,
  pricing: PricingClass,
): MessageRecord {
  const { type, ...content } = event.message;
  return {
    id: `client:${event.clientMessageId}`,
    clientMessageId: event.clientMessageId,
    phoneNumberId: context.phoneNumberId,
    waId: context.waId,
    direction: 'outbound',
    source: 'platform',
    type,
    content,
    timestamp: event.at,
    status: 'queued',
    statusAt: event.at,
    pricing,
  };
}

/** A send result or a status webhook, applied to the message it names. */
export function statusUpdate({ context, event }: Args): MessageStatusUpdate {
  const who = { phoneNumberId: context.phoneNumberId, waId: context.waId };
  switch (event.type) {
    case 'send.accepted':
      return { ...who, clientMessageId: event.clientMessageId, wamid: event.wamid, status: 'accepted', timestamp: event.at };
    case 'send.failed':
      return compact({
        ...who,
        clientMessageId: event.clientMessageId,
        status: 'failed' as const,
        timestamp: event.at,
        errorCode: event.code,
        errorTitle: event.title,
      });
    case 'send.unconfirmed':
      return { ...who, clientMessageId: event.clientMessageId, status: 'unconfirmed', timestamp: event.at };
    case 'message.status': {
      const { status } = event;
      const error = status.errors?.[0];
      return compact({
        ...who,
        wamid: status.wamid,
        clientMessageId: status.clientMessageId,
        status: status.status,
        timestamp: happenedAt(status.timestamp, event.at),
        errorCode: error?.code,
        errorTitle: error?.title,
        pricing: status.pricing ? metaPricing(status.pricing) : undefined,
      });
    }
    default:
      throw new Error(`${event.type} carries no message status`);
  }
}
