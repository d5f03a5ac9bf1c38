/** Which events of a conversation are repeats. */
import type { AnyEvent } from './read-model';

/** Key prefixes of messages by kind: an echo or history message reusing a customer message's id is not its repeat. */
const MESSAGE_KEY_PREFIX = { 'customer.message': 'message', 'business.echo': 'echo', 'history.message': 'history' } as const;

/**
 * The key under which the interpreter drops a repeated event: Meta redelivers webhooks for up to
 * 7 days (docs/meta.md#duplicates), and a backend may retry a send. Undefined: never a duplicate.
 * A message repeats one of its own kind with its id and its content: an echo under a customer
 * message's id, or a different message under a known id, reaches the store, which keeps it as a
 * conflict.
 */
export function conversationDedupeKey(event: AnyEvent): string | undefined {
  switch (event.type) {
    case 'customer.message':
    case 'business.echo':
    case 'history.message': {
      const message = event.message as { id?: unknown; content?: unknown } | undefined;
      return typeof message?.id === 'string'
        ? `${MESSAGE_KEY_PREFIX[event.type]}:${message.id}:${fingerprint(JSON.stringify(message.content) ?? '')}`
        : undefined;
    }
    default:
      return commonDedupeKey(event);
  }
}

/** FNV-1a (32 bits) in hex: a short, deterministic digest of a message's content. */
function fingerprint(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/**
 * The key of executions started before messages were told apart by kind and content (no
 * `message-dedupe-by-content` marker in their history): every message under one `message:<id>`, so that they replay as they ran.
 */
export function conversationDedupeKeyBeforeKinds(event: AnyEvent): string | undefined {
  switch (event.type) {
    case 'customer.message':
    case 'business.echo':
    case 'history.message': {
      const id = (event.message as { id?: unknown } | undefined)?.id;
      return typeof id === 'string' ? `message:${id}` : undefined;
    }
    default:
      return commonDedupeKey(event);
  }
}

function commonDedupeKey(event: AnyEvent): string | undefined {
  switch (event.type) {
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
