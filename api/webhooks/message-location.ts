/**
 * Where a message sits in a delivery Meta sent: the item of `messages`, `message_echoes` or a
 * history thread's `messages` with its id, under the business number's metadata. Read from the
 * bytes as kept, whatever the envelope's shape (with or without `object`, a bare change, `field`
 * beside the change), so that a reader finds the item in the delivery the read API returns.
 */
import { isRecord } from './salvage';

export interface MessageLocation {
  /** A JSON path into the delivery, e.g. `entry[0].changes[1].value.messages[2]`. */
  path: string;
  /** Indexes in `entry[]` and its `changes[]`, when the envelope has them. */
  entry?: number;
  change?: number;
}

const MESSAGE_ARRAYS = new Set(['messages', 'message_echoes']);

export function locateMessage(delivery: unknown, phoneNumberId: string, messageId: string): MessageLocation | undefined {
  let found: string[] | undefined;
  const walk = (node: unknown, path: string[], numberId: unknown): void => {
    if (found) return;
    if (Array.isArray(node)) {
      node.forEach((child, i) => walk(child, [...path, `[${i}]`], numberId));
      return;
    }
    if (!isRecord(node)) return;
    const here = isRecord(node.metadata) && 'phone_number_id' in node.metadata ? node.metadata.phone_number_id : numberId;
    for (const [key, child] of Object.entries(node)) {
      if (MESSAGE_ARRAYS.has(key) && Array.isArray(child) && here === phoneNumberId) {
        const i = child.findIndex((m) => isRecord(m) && m.id === messageId);
        if (i >= 0) {
          found = [...path, `.${key}`, `[${i}]`];
          return;
        }
      }
      walk(child, [...path, `.${key}`], here);
    }
  };
  walk(delivery, [], undefined);
  if (!found) return undefined;
  const path = found.join('').replace(/^\./, '');
  const indexes = /^entry\[(\d+)\](?:\.changes\[(\d+)\])?/.exec(path);
  return {
    path,
    ...(indexes?.[1] !== undefined ? { entry: Number(indexes[1]) } : {}),
    ...(indexes?.[2] !== undefined ? { change: Number(indexes[2]) } : {}),
  };
}
