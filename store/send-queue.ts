import type { OutboundContent, QueueSendParams } from '../machines/conversation';
import { MESSAGE_STATUS_ORDER } from '../machines/conversation/messages';
import type { SqlPort } from './message-store';

// The ranks the message store orders statuses by (queued and held share the first).
const UNCONFIRMED_RANK = MESSAGE_STATUS_ORDER.indexOf('unconfirmed');
const ACCEPTED_RANK = MESSAGE_STATUS_ORDER.indexOf('accepted');
const FAILED_RANK = MESSAGE_STATUS_ORDER.indexOf('failed');

/**
 * Each number's send queue, kept in the message store: a platform send waits as a `queued` (or
 * `held`) message, in the order its conversation took it (`seq`), so that no workflow carries a
 * backlog. The number's sender takes sends from it one at a time, marking each `unconfirmed`
 * (claimed) just before its request leaves: a send is claimed once, so none is ever sent twice,
 * whatever crashes; one that may have reached Meta stays `unconfirmed` until a status webhook.
 *
 * `send_queues` holds per number whether the sender sleeps (the next send wakes it) and a stop the
 * sender or a status webhook learnt of before the onboarding took it (a refusal that stops the number).
 */
export interface SendQueue {
  /**
   * Adds a send once (by client message id): `held` at once when the registry says the number
   * cannot send. `wake`: the sender sleeps and must be signalled.
   */
  add(params: QueueSendParams): Promise<{ added: boolean; wake: boolean }>;
  /** Sends waiting (queued or held) for the number. */
  depth(phoneNumberId: string): Promise<number>;
  /** The first sends in queue order (`scan` of them), for the sender to choose from. */
  peek(phoneNumberId: string, scan: number): Promise<QueueHead[]>;
  /** Claims one send (`unconfirmed`, its request about to leave); undefined if it is no longer queued. */
  claim(phoneNumberId: string, id: string, at: number): Promise<ClaimedSend | undefined>;
  /**
   * Meta accepted these claimed sends: their wamids, `accepted` (a status webhook that came first
   * keeps its later status). One statement for many answers.
   */
  accepted(phoneNumberId: string, answers: { id: string; wamid: string; at: number }[]): Promise<void>;
  /** Puts a claimed send back in its place: Meta answered that it did not take it. */
  requeue(phoneNumberId: string, id: string, change: { at: number; notBefore: number; attempts: number }): Promise<void>;
  /** Marks the number's queued sends `held` with the sending-block reason; the count of sends held. */
  hold(phoneNumberId: string, reason: string, remedy: string | undefined): Promise<number>;
  /** Held sends back to `queued`, in their place, when sending clears. */
  release(phoneNumberId: string): Promise<number>;
  /**
   * Fails what must not go out: free-form sends whose customer service window closed (unless a
   * later customer message reopened it), and, with `holdLimitMs`, sends held longer than it.
   */
  expire(phoneNumberId: string, rule: ExpiryRule): Promise<ExpiredSend[]>;
  /** When `expire` will next find something (epoch ms), if anything waits. */
  nextExpiry(phoneNumberId: string, rule: ExpiryRule): Promise<number | undefined>;
  /**
   * The sender goes to sleep: marked idle first, then the queue is looked at again (a send added
   * in between is seen here, or wakes it). `runnable`: do not sleep; `wakeAt`: a delayed send's time.
   */
  sleep(phoneNumberId: string, now: number): Promise<{ runnable: boolean; wakeAt?: number }>;
  /** A refusal that stops the number, before the onboarding took it. */
  stop(phoneNumberId: string, code: number, at: number): Promise<void>;
  stopped(phoneNumberId: string): Promise<{ code: number; at: number } | undefined>;
}

export interface QueueHead {
  id: string;
  waId: string;
  notBefore: number;
}

export interface ClaimedSend {
  id: string;
  clientMessageId: string;
  waId: string;
  message: OutboundContent;
  attempts: number;
  tellAccepted: boolean;
}

export interface ExpiryRule {
  now: number;
  /** The customer service window's length: a customer message newer than this keeps free-form sends. */
  windowMs: number;
  /** Set while the number is blocked: held sends older than this fail. */
  holdLimitMs?: number;
}

export interface ExpiredSend {
  clientMessageId: string;
  waId: string;
  reason: 'customer_service_window_closed' | 'hold_limit_reached';
}

export const SEND_QUEUE_SCHEMA = `
ALTER TABLE messages ADD COLUMN IF NOT EXISTS window_expires_at bigint;
ALTER TABLE messages ADD COLUMN IF NOT EXISTS not_before bigint NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN IF NOT EXISTS attempts smallint NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN IF NOT EXISTS tell_accepted boolean NOT NULL DEFAULT false;
CREATE INDEX IF NOT EXISTS messages_send_queue ON messages (phone_number_id, seq) WHERE status_rank = 0;
CREATE INDEX IF NOT EXISTS messages_send_queue_ts ON messages (phone_number_id, ts) WHERE status_rank = 0;
CREATE INDEX IF NOT EXISTS messages_send_queue_window ON messages (phone_number_id, window_expires_at)
  WHERE status_rank = 0 AND window_expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS send_queues (
  phone_number_id text PRIMARY KEY,
  sender_idle boolean NOT NULL DEFAULT true,
  stopped_code integer,
  stopped_at bigint
);`;

const WINDOW_CLOSED_TITLE =
  'The customer service window closed before the message could go out; it was not sent. Send an approved template.';

/** A customer message newer than the window's length keeps a free-form send (`m` the queued send). */
const WINDOW_REOPENED = `EXISTS (SELECT 1 FROM messages c WHERE c.phone_number_id = m.phone_number_id
  AND c.wa_id = m.wa_id AND c.source = 'customer' AND c.ts > $2::bigint - $3::bigint)`;

export function createSendQueue(db: SqlPort): SendQueue {
  return {
    async add({ record, windowExpiresAt, tellAccepted }) {
      const { type, phoneNumberId } = record;
      const { rows } = await db.query<{ added: boolean; wake: boolean }>(
        `WITH registry AS (SELECT can_send, reason, remedy FROM numbers WHERE phone_number_id = $3),
         inserted AS (
           INSERT INTO messages (id, client_message_id, phone_number_id, wa_id, direction, source, type, content, ts,
             status, status_rank, status_at, pricing, reason, remedy, window_expires_at, tell_accepted)
           SELECT $1, $2, $3, $4, 'outbound', 'platform', $5, $6::jsonb, $7,
             CASE WHEN r.can_send = false THEN 'held' ELSE 'queued' END, 0, $7, $8::jsonb,
             CASE WHEN r.can_send = false THEN r.reason END, CASE WHEN r.can_send = false THEN r.remedy END, $9, $10
           FROM (SELECT 1) AS one LEFT JOIN registry r ON true
           ON CONFLICT DO NOTHING
           RETURNING 1),
         woken AS (
           INSERT INTO send_queues (phone_number_id, sender_idle) SELECT $3, false FROM inserted
           ON CONFLICT (phone_number_id) DO UPDATE SET sender_idle = false WHERE send_queues.sender_idle
           RETURNING 1)
         SELECT EXISTS (SELECT 1 FROM inserted) AS added, EXISTS (SELECT 1 FROM woken) AS wake`,
        [
          record.id,
          record.clientMessageId ?? null,
          phoneNumberId,
          record.waId,
          type,
          record.content,
          record.timestamp,
          record.pricing,
          windowExpiresAt ?? null,
          tellAccepted,
        ],
      );
      return rows[0] ?? { added: false, wake: false };
    },

    async depth(phoneNumberId) {
      const { rows } = await db.query<{ n: string | number }>(
        'SELECT count(*) AS n FROM messages WHERE phone_number_id = $1 AND status_rank = 0',
        [phoneNumberId],
      );
      return Number(rows[0]?.n ?? 0);
    },

    async peek(phoneNumberId, scan) {
      const { rows } = await db.query<{ id: string; wa_id: string; not_before: string | number }>(
        `SELECT id, wa_id, not_before FROM messages
         WHERE phone_number_id = $1 AND status_rank = 0 AND status = 'queued' ORDER BY seq LIMIT $2`,
        [phoneNumberId, scan],
      );
      return rows.map((r) => ({ id: r.id, waId: r.wa_id, notBefore: Number(r.not_before) }));
    },

    async claim(phoneNumberId, id, at) {
      const { rows } = await db.query<{
        id: string;
        client_message_id: string;
        wa_id: string;
        type: string;
        content: Record<string, unknown>;
        attempts: number;
        tell_accepted: boolean;
      }>(
        `UPDATE messages SET status = 'unconfirmed', status_rank = ${UNCONFIRMED_RANK}, status_at = $2
         WHERE phone_number_id = $3 AND id = $1 AND status_rank = 0 AND status = 'queued'
         RETURNING id, client_message_id, wa_id, type, content, attempts, tell_accepted`,
        [id, at, phoneNumberId],
      );
      const row = rows[0];
      if (!row) return undefined;
      return {
        id: row.id,
        clientMessageId: row.client_message_id,
        waId: row.wa_id,
        message: { type: row.type, ...row.content } as OutboundContent,
        attempts: row.attempts,
        tellAccepted: row.tell_accepted,
      };
    },

    async accepted(phoneNumberId, answers) {
      if (answers.length === 0) return;
      await db.query(
        `UPDATE messages m SET
           wamid = COALESCE(m.wamid, a.wamid),
           status = CASE WHEN m.status_rank < ${ACCEPTED_RANK} THEN 'accepted' ELSE m.status END,
           status_at = CASE WHEN m.status_rank < ${ACCEPTED_RANK} THEN a.at ELSE m.status_at END,
           status_rank = GREATEST(m.status_rank, ${ACCEPTED_RANK})
         FROM unnest($1::text[], $2::text[], $3::bigint[]) AS a(id, wamid, at)
         WHERE m.phone_number_id = $4 AND m.id = a.id`,
        [answers.map((a) => a.id), answers.map((a) => a.wamid), answers.map((a) => a.at), phoneNumberId],
      );
    },

    async requeue(phoneNumberId, id, { at, notBefore, attempts }) {
      await db.query(
        `UPDATE messages SET status = 'queued', status_rank = 0, status_at = $2, not_before = $3, attempts = $4
         WHERE phone_number_id = $5 AND id = $1 AND status = 'unconfirmed' AND wamid IS NULL`,
        [id, at, notBefore, attempts, phoneNumberId],
      );
    },

    async hold(phoneNumberId, reason, remedy) {
      const { rows } = await db.query<{ n: string | number }>(
        `WITH held AS (
           UPDATE messages SET status = 'held', reason = $2, remedy = $3
           WHERE phone_number_id = $1 AND status_rank = 0
             AND (status = 'queued' OR reason IS DISTINCT FROM $2 OR remedy IS DISTINCT FROM $3)
           RETURNING 1)
         SELECT count(*) AS n FROM held`,
        [phoneNumberId, reason, remedy ?? null],
      );
      return Number(rows[0]?.n ?? 0);
    },

    async release(phoneNumberId) {
      const { rows } = await db.query<{ n: string | number }>(
        `WITH released AS (
           UPDATE messages SET status = 'queued', reason = NULL, remedy = NULL
           WHERE phone_number_id = $1 AND status_rank = 0 AND status = 'held'
           RETURNING 1)
         SELECT count(*) AS n FROM released`,
        [phoneNumberId],
      );
      return Number(rows[0]?.n ?? 0);
    },

    async expire(phoneNumberId, { now, windowMs, holdLimitMs }) {
      const { rows } = await db.query<{ client_message_id: string; wa_id: string; reason: ExpiredSend['reason'] }>(
        `UPDATE messages m SET status = 'failed', status_rank = ${FAILED_RANK}, status_at = $2,
           reason = CASE WHEN m.window_expires_at IS NOT NULL AND m.window_expires_at <= $2 AND NOT ${WINDOW_REOPENED}
                         THEN 'customer_service_window_closed' ELSE 'hold_limit_reached' END,
           error_title = CASE WHEN m.window_expires_at IS NOT NULL AND m.window_expires_at <= $2 AND NOT ${WINDOW_REOPENED}
                         THEN $5 ELSE 'Held longer than the hold limit while the number could not send (' || m.reason || ').' END
         WHERE m.phone_number_id = $1 AND m.status_rank = 0 AND (
           (m.window_expires_at IS NOT NULL AND m.window_expires_at <= $2 AND NOT ${WINDOW_REOPENED})
           OR ($4::bigint IS NOT NULL AND m.status = 'held' AND m.ts <= $2::bigint - $4::bigint))
         RETURNING m.client_message_id, m.wa_id, m.reason`,
        [phoneNumberId, now, windowMs, holdLimitMs ?? null, WINDOW_CLOSED_TITLE],
      );
      return rows.map((r) => ({ clientMessageId: r.client_message_id, waId: r.wa_id, reason: r.reason }));
    },

    async nextExpiry(phoneNumberId, { windowMs, holdLimitMs }) {
      // A window a later customer message keeps open is looked at again when that one would close.
      const { rows } = await db.query<{ at: string | number | null }>(
        `SELECT LEAST(
           (SELECT min(GREATEST(m.window_expires_at, COALESCE((SELECT max(c.ts) FROM messages c
              WHERE c.phone_number_id = m.phone_number_id AND c.wa_id = m.wa_id AND c.source = 'customer'), 0) + $2::bigint))
            FROM messages m WHERE m.phone_number_id = $1 AND m.status_rank = 0 AND m.window_expires_at IS NOT NULL),
           (SELECT min(ts) + $3::bigint FROM messages WHERE phone_number_id = $1 AND status_rank = 0 AND status = 'held'
              AND $3::bigint IS NOT NULL)) AS at`,
        [phoneNumberId, windowMs, holdLimitMs ?? null],
      );
      const at = rows[0]?.at;
      return at === null || at === undefined ? undefined : Number(at);
    },

    async sleep(phoneNumberId, now) {
      await db.query(
        `INSERT INTO send_queues (phone_number_id, sender_idle) VALUES ($1, true)
         ON CONFLICT (phone_number_id) DO UPDATE SET sender_idle = true`,
        [phoneNumberId],
      );
      const { rows } = await db.query<{ runnable: boolean; wake_at: string | number | null }>(
        `SELECT EXISTS (SELECT 1 FROM messages WHERE phone_number_id = $1 AND status_rank = 0 AND status = 'queued'
                          AND not_before <= $2) AS runnable,
                (SELECT min(not_before) FROM messages WHERE phone_number_id = $1 AND status_rank = 0
                   AND status = 'queued' AND not_before > $2) AS wake_at`,
        [phoneNumberId, now],
      );
      const { runnable, wake_at } = rows[0] ?? { runnable: false, wake_at: null };
      if (runnable) {
        await db.query('UPDATE send_queues SET sender_idle = false WHERE phone_number_id = $1', [phoneNumberId]);
      }
      return { runnable, ...(wake_at !== null ? { wakeAt: Number(wake_at) } : {}) };
    },

    async stop(phoneNumberId, code, at) {
      await db.query(
        `INSERT INTO send_queues (phone_number_id, sender_idle, stopped_code, stopped_at) VALUES ($1, false, $2, $3)
         ON CONFLICT (phone_number_id) DO UPDATE SET stopped_code = $2, stopped_at = $3`,
        [phoneNumberId, code, at],
      );
    },

    async stopped(phoneNumberId) {
      const { rows } = await db.query<{ stopped_code: number | null; stopped_at: string | number | null }>(
        'SELECT stopped_code, stopped_at FROM send_queues WHERE phone_number_id = $1',
        [phoneNumberId],
      );
      const row = rows[0];
      if (!row || row.stopped_code === null || row.stopped_at === null) return undefined;
      return { code: row.stopped_code, at: Number(row.stopped_at) };
    },
  };
}
