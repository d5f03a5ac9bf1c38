/**
 * Backpressure of the send API: a number's send queue takes SEND_QUEUE_DEPTH_LIMIT sends; beyond
 * it a send is answered 429 `send_queue_full` with `Retry-After` and the queue's depth. Mounted
 * before the idempotency middleware, so a 429 never becomes a key's kept answer.
 */
import type { RequestHandler } from 'express';
import { COEXISTENCE_MESSAGES_PER_SECOND } from '../../machines/meta-codes';
import type { MessageStore } from '../../store/message-store';
import { parseRequest } from '../http/errors';
import type { ErrorBody } from '../http/schemas';
import { conversationParamsSchema } from './schemas';

export function sendQueueLimit(store: MessageStore, limit: number): RequestHandler {
  const queueDepth = cachedQueueDepth(store, limit);
  return async (req, res, next) => {
    const { phoneNumberId } = parseRequest(conversationParamsSchema, req.params, 'params');
    const depth = await queueDepth(phoneNumberId);
    if (depth < limit) {
      next();
      return;
    }
    // The queue drains at the number's pace.
    const seconds = Math.ceil((depth - limit + 1) / COEXISTENCE_MESSAGES_PER_SECOND) + 1;
    res
      .status(429)
      .set('Retry-After', String(seconds))
      .json({
        error: {
          code: 'send_queue_full',
          message: `The number's send queue holds ${depth} sends, its limit is ${limit}.`,
          hint: `It sends ${COEXISTENCE_MESSAGES_PER_SECOND} messages a second: try again in ${seconds} s.`,
          depth,
          limit,
        },
      } satisfies ErrorBody);
  };
}

/**
 * A number's queue depth, read at most once a second per number while it is far below the limit
 * (the check then costs nothing per send); read for every send once within a second's worth of it.
 */
function cachedQueueDepth(store: MessageStore, limit: number, ttlMs = 1_000) {
  const cache = new Map<string, { at: number; depth: Promise<number> }>();
  const margin = Math.max(200, Math.ceil(limit * 0.01));
  return async (phoneNumberId: string): Promise<number> => {
    const hit = cache.get(phoneNumberId);
    if (hit && Date.now() - hit.at < ttlMs && (await hit.depth) < limit - margin) return hit.depth;
    const depth = store.queue.depth(phoneNumberId);
    cache.set(phoneNumberId, { at: Date.now(), depth });
    depth.catch(() => cache.delete(phoneNumberId));
    if (cache.size > 10_000) cache.delete(cache.keys().next().value!);
    return depth;
  };
}
