/** Which events of a conversation are repeats. */
import type { AnyEvent } from './read-model';

/**
 * The key under which the interpreter drops a repeated event: Meta redelivers webhooks for up to
 * 7 days (docs/meta.md#duplicates), and a backend may retry a send. Undefined: never a duplicate.
 */
export function conversationDedupeKey(event: AnyEvent): string | undefined {
  switch (event.type) {
    case 'customer.message':
    case 'business.echo':
    case 'history.message': {
      const id = (event.message as { id?: unknown } | undefined)?.id;
      return typeof id === 'string' ? `message:${id}` : undefined;
    }
    case 'message.status': {
      const status = event.status as { wamid?: unknown; status?: unknown } | undefined;
      return typeof status?.wamid === 'string' && typeof status.status === 'string'
        ? `status:${status.wamid}:${status.status}`
        : undefined;
    }
    case 'send':
      return typeof event.clientMessageId === 'string' ? `send:${event.clientMessageId}` : undefined;
    case 'send.accepted':
    case 'send.failed':
    case 'send.unconfirmed':
      return typeof event.clientMessageId === 'string' ? `${event.type}:${event.clientMessageId}` : undefined;
    default:
      return undefined;
  }
}
