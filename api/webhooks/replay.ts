/**
 * A quarantine entry replayed: its delivery's bytes routed again exactly as the intake routes them
 * (the number registry asked now), its items queued under the same keys (what was applied is not
 * applied again), history media and contacts of the numbers now accepted written. What the registry
 * still refuses is kept as a new entry of the delivery. Operators replay (POST /ops/quarantine/replay);
 * the dispatcher replays an `unknown_number` entry once its number is registered.
 */
import { awaitsRegistration } from '../../store/inbox';
import type { MessageStore } from '../../store/message-store';
import { ApiError } from '../http/errors';
import { readDelivery } from './intake';

/** Items queued again; undefined when the entry has no delivery bytes to replay (or is none). */
export async function replayQuarantined(store: MessageStore, id: string): Promise<{ queued: number } | undefined> {
  const entry = await store.quarantineEntry(id);
  if (!entry?.raw || !entry.deliveryId) return undefined;
  // Routed as received: the events keep the time Meta delivered them.
  const intake = await readDelivery(entry.raw, Date.parse(entry.receivedAt), store).catch((err: unknown) => {
    if (err instanceof ApiError) return undefined; // not JSON: nothing in it to route
    throw err;
  });
  for (const media of intake?.historyMedia ?? []) await store.attachHistoryMedia(media);
  for (const contact of intake?.contacts ?? []) await store.recordContact(contact);
  const refused = intake?.refused ?? [];
  const { queued } = await store.requeueDelivery(id, entry.deliveryId, intake?.items ?? [], refused);
  // A number registered while this replay ran: its entry is due again at once.
  if (refused.some((r) => awaitsRegistration(r))) await store.markReplayDue({ deliverySeq: entry.deliveryId });
  return { queued };
}
