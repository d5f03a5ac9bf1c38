/**
 * Per-item salvage: a change is read item by item, so that one item Meta wrote in a shape we do
 * not take is classified and kept, and the items beside it are still applied.
 */
import type { z } from 'zod';
import { messageSchema } from './schemas';

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `value` with its array `key` kept to the items `schema` accepts; each other item is classified `label`. */
export function keepValidItems(value: unknown, key: string, schema: z.ZodType, unrouted: string[], label: string): unknown {
  if (!isRecord(value) || !Array.isArray(value[key])) return value;
  const kept = (value[key] as unknown[]).filter((item) => {
    const valid = schema.safeParse(item).success;
    if (!valid) unrouted.push(label);
    return valid;
  });
  return { ...value, [key]: kept };
}

/** A `history` value with each thread's messages kept to the valid ones. */
export function keepValidHistoryMessages(value: unknown, unrouted: string[]): unknown {
  if (!isRecord(value) || !Array.isArray(value.history)) return value;
  return {
    ...value,
    history: value.history.map((chunk: unknown) =>
      isRecord(chunk) && Array.isArray(chunk.threads)
        ? {
            ...chunk,
            threads: chunk.threads.map((thread: unknown) =>
              keepValidItems(thread, 'messages', messageSchema, unrouted, 'history:malformed_message'),
            ),
          }
        : chunk,
    ),
  };
}
