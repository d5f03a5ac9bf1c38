import type { SqlPort } from './message-store';

/**
 * The backend's pushes waiting to be delivered, in order per conversation. The conversation's
 * effects write them next to the message they are about (each once: the delivery id is the key);
 * a dispatcher (activities/backend-push.ts) claims the oldest of each conversation, delivers it,
 * and retries with backoff until the backend accepts. A claim is a lease: a dispatcher that dies
 * holding one leaves it to another once the lease ends.
 */
export interface PushOutbox {
  /** Keeps a push (its body as it will be POSTed) unless one with its delivery id is already kept. */
  enqueuePush(push: { deliveryId: string; conversationId: string; body: object }): Promise<void>;
  /** Claims, for `leaseMs`, the oldest due push of up to `limit` conversations whose earlier pushes are all delivered. */
  claimPushes(now: number, limit: number, leaseMs: number): Promise<ClaimedPush[]>;
  markPushDelivered(seq: number, at: number): Promise<void>;
  markPushFailed(seq: number, error: string, retryAt: number): Promise<void>;
  /** Pushes not yet delivered, and the age of the oldest (ms). */
  pushBacklog(now: number): Promise<{ pending: number; oldestAgeMs: number }>;
}

export interface ClaimedPush {
  seq: number;
  deliveryId: string;
  /** The JSON text to POST, byte for byte as it was first kept. */
  body: string;
  attempts: number;
}

export const PUSH_OUTBOX_SCHEMA = `
CREATE TABLE IF NOT EXISTS push_outbox (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  delivery_id text NOT NULL UNIQUE,
  conversation_id text NOT NULL,
  -- JSON text as POSTed: its escapes (a NUL, a lone surrogate) stay escapes, which jsonb would refuse.
  body text NOT NULL,
  enqueued_at bigint NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  next_attempt_at bigint NOT NULL DEFAULT 0,
  claimed_until bigint NOT NULL DEFAULT 0,
  delivered_at bigint
);
CREATE INDEX IF NOT EXISTS push_outbox_pending ON push_outbox (conversation_id, seq) WHERE delivered_at IS NULL;
`;

const CLAIM = `
WITH heads AS (
  SELECT DISTINCT ON (conversation_id) seq, conversation_id, next_attempt_at, claimed_until
  FROM push_outbox WHERE delivered_at IS NULL
  ORDER BY conversation_id, seq
),
due AS (
  SELECT seq FROM heads WHERE next_attempt_at <= $1 AND claimed_until <= $1 ORDER BY seq LIMIT $2
),
locked AS (
  SELECT p.seq FROM push_outbox p JOIN due USING (seq) FOR UPDATE OF p SKIP LOCKED
)
UPDATE push_outbox p SET claimed_until = $1 + $3, attempts = p.attempts + 1
FROM locked WHERE p.seq = locked.seq AND p.claimed_until <= $1
RETURNING p.seq, p.delivery_id, p.body, p.attempts`;

export function pushOutbox(db: SqlPort): PushOutbox {
  return {
    async enqueuePush({ deliveryId, conversationId, body }) {
      await db.query(
        `INSERT INTO push_outbox (delivery_id, conversation_id, body, enqueued_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (delivery_id) DO NOTHING`,
        [deliveryId, conversationId, JSON.stringify(body), Date.now()],
      );
    },

    async claimPushes(now, limit, leaseMs) {
      const { rows } = await db.query<{ seq: string | number; delivery_id: string; body: string; attempts: number }>(CLAIM, [
        now,
        limit,
        leaseMs,
      ]);
      return rows
        .map((r) => ({
          seq: Number(r.seq),
          deliveryId: r.delivery_id,
          body: r.body,
          attempts: r.attempts,
        }))
        .sort((a, b) => a.seq - b.seq);
    },

    async markPushDelivered(seq, at) {
      await db.query('UPDATE push_outbox SET delivered_at = $2, claimed_until = 0, last_error = NULL WHERE seq = $1', [seq, at]);
    },

    async markPushFailed(seq, error, retryAt) {
      await db.query('UPDATE push_outbox SET last_error = $2, next_attempt_at = $3, claimed_until = 0 WHERE seq = $1', [
        seq,
        error.slice(0, 500),
        retryAt,
      ]);
    },

    async pushBacklog(now) {
      const { rows } = await db.query<{ pending: string | number; oldest: string | number | null }>(
        'SELECT count(*) AS pending, min(enqueued_at) AS oldest FROM push_outbox WHERE delivered_at IS NULL',
      );
      const oldest = rows[0]?.oldest;
      return { pending: Number(rows[0]?.pending ?? 0), oldestAgeMs: oldest == null ? 0 : Math.max(0, now - Number(oldest)) };
    },
  };
}
