/**
 * Conversation events pushed to the backend (contracts/push.ts): what each effect queues in the
 * store's push outbox, and the dispatcher that delivers the outbox, signed like the onboarding's
 * callbacks, in order per conversation, retried with backoff until the backend accepts.
 */
import type { Logger } from 'pino';
import type { Config } from '../config';
import { conversationWorkflowId } from '../contracts/ids';
import type { PushBody, PushKind, PushPayload } from '../contracts/push';
import { DEFAULT_CONVERSATION_SETTINGS, type MessageRecord, type MessageStatusUpdate } from '../machines/conversation';
import { WINDOW_CLOSED_CODES } from '../machines/meta-codes';
import type { MessageStore } from '../store/message-store';
import { postSigned } from './backend';

/** What a stored message or status means for the backend: the pushes it asked for, each with a delivery id that never changes. */
export function pushesFor(config: Pick<Config, 'BACKEND_PUSH_EVENTS'>, store: MessageStore) {
  const wanted = new Set<PushKind>(config.BACKEND_PUSH_EVENTS);
  const enqueue = async (key: string, phoneNumberId: string, waId: string, occurredAt: number, payload: PushPayload) => {
    if (!wanted.has(payload.kind)) return;
    const conversationId = conversationWorkflowId(phoneNumberId, waId);
    const deliveryId = `${payload.kind}:${phoneNumberId}:${key}`;
    const body: PushBody = { ...payload, deliveryId, phoneNumberId, waId, conversationId, occurredAt };
    await store.enqueuePush({ deliveryId, conversationId, body });
  };

  return {
    async message(record: MessageRecord) {
      const { phoneNumberId, waId, id, timestamp } = record;
      if (record.source === 'customer') {
        await enqueue(id, phoneNumberId, waId, timestamp, { kind: 'message.received', message: record });
        // Only a customer's message opens or extends the window (never an echo or history).
        await enqueue(`${waId}:open:${id}`, phoneNumberId, waId, timestamp, {
          kind: 'window.changed',
          customerServiceWindow: { status: 'open', expiresAt: timestamp + DEFAULT_CONVERSATION_SETTINGS.customerServiceWindowMs },
        });
      } else if (record.source === 'app_echo') {
        await enqueue(id, phoneNumberId, waId, timestamp, { kind: 'message.echo', message: record });
      }
    },

    async status(update: MessageStatusUpdate) {
      const { phoneNumberId, waId, timestamp } = update;
      const message = update.wamid ?? `client:${update.clientMessageId}`;
      await enqueue(`${message}:${update.status}`, phoneNumberId, waId, timestamp, { kind: 'message.status', status: update });
      if (update.status === 'failed' && WINDOW_CLOSED_CODES.includes(update.errorCode ?? -1)) {
        await enqueue(`${waId}:closed:${message}`, phoneNumberId, waId, timestamp, {
          kind: 'window.changed',
          customerServiceWindow: { status: 'closed', closedBy: 'meta', closedAt: timestamp },
        });
      }
    },
  };
}

const LEASE_MS = 30_000;
const MAX_BACKOFF_MS = 60_000;
/** Conversations delivered side by side in one round. */
const ROUND = 16;

/** Delivers the push outbox until stopped. One per worker process; several share the outbox by leases. */
export function startPushDispatcher(
  { config, store, log }: { config: Config; store: MessageStore; log: Logger },
  { idleMs = 200 } = {},
): { stop(): Promise<void> } {
  const url = config.BACKEND_CALLBACK_URL;
  let stopped = false;
  const deliver = (deliveryId: string, body: string) => postSigned(url!, config.BACKEND_CALLBACK_SECRET, deliveryId, body);

  const round = async (): Promise<number> => {
    const claimed = await store.claimPushes(Date.now(), ROUND, LEASE_MS);
    await Promise.all(
      claimed.map(async ({ seq, deliveryId, body, attempts }) => {
        try {
          await deliver(deliveryId, body);
          await store.markPushDelivered(seq, Date.now());
        } catch (err) {
          const backoff = Math.min(1000 * 2 ** Math.min(attempts - 1, 16), MAX_BACKOFF_MS);
          await store.markPushFailed(seq, (err as Error).message, Date.now() + backoff);
          log.warn({ deliveryId, attempts, err: (err as Error).message }, 'push to the backend failed; retried later');
        }
      }),
    );
    return claimed.length;
  };

  const running = (async () => {
    if (!url || config.BACKEND_PUSH_EVENTS.length === 0) return;
    while (!stopped) {
      let delivered = 0;
      try {
        delivered = await round();
      } catch (err) {
        log.error({ err }, 'push dispatcher round failed');
      }
      if (delivered === 0 && !stopped) await new Promise((r) => setTimeout(r, idleMs));
    }
  })();

  return {
    async stop() {
      stopped = true;
      await running;
    },
  };
}
