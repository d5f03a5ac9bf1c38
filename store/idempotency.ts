import type { SqlPort } from './message-store';

/**
 * `Idempotency-Key`s of the API's POSTs: each key is claimed by the first request that carries it
 * and keeps that request's answer until it expires, so a repeat gets the first answer again.
 * Times are the database's, so every API process agrees on them.
 */
export interface IdempotencyKeys {
  /**
   * Claims `key` for a request with this fingerprint (a hash of what it asks), kept `ttlMs`; an
   * expired key, or one whose claim has had no answer for `leaseMs` (its process died), is claimed
   * anew. Otherwise answers what the key holds: its fingerprint and, once kept, the answer.
   */
  claimIdempotencyKey(key: string, fingerprint: string, ttlMs: number, leaseMs: number): Promise<IdempotencyClaim>;
  /** Keeps the answer of the request that claimed `key`. */
  keepIdempotentAnswer(key: string, answer: IdempotentAnswer): Promise<void>;
  /** Frees `key`: its request failed in a way a retry may not (Temporal unreachable, a 5xx). */
  releaseIdempotencyKey(key: string): Promise<void>;
}

/** An answer as it was sent: its status and its body, byte for byte. */
export interface IdempotentAnswer {
  status: number;
  body: string;
}

export type IdempotencyClaim = { claimed: true } | { claimed: false; fingerprint: string; answer?: IdempotentAnswer };

export const IDEMPOTENCY_SCHEMA = `
CREATE TABLE IF NOT EXISTS idempotency_keys (
  key text PRIMARY KEY,
  fingerprint text NOT NULL,
  claimed_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  status integer,
  body text
);
CREATE INDEX IF NOT EXISTS idempotency_keys_expires_at ON idempotency_keys (expires_at);
`;

const MS = `* interval '1 millisecond'`;

const CLAIM = `
INSERT INTO idempotency_keys (key, fingerprint, expires_at) VALUES ($1, $2, now() + $3::double precision ${MS})
ON CONFLICT (key) DO UPDATE
  SET fingerprint = EXCLUDED.fingerprint, claimed_at = now(), expires_at = EXCLUDED.expires_at, status = NULL, body = NULL
  WHERE idempotency_keys.expires_at <= now()
     OR (idempotency_keys.status IS NULL AND idempotency_keys.claimed_at <= now() - $4::double precision ${MS})
RETURNING key`;

export function idempotencyKeys(db: SqlPort): IdempotencyKeys {
  return {
    async claimIdempotencyKey(key, fingerprint, ttlMs, leaseMs) {
      await db.query('DELETE FROM idempotency_keys WHERE expires_at <= now()');
      for (;;) {
        if ((await db.query(CLAIM, [key, fingerprint, ttlMs, leaseMs])).rows.length > 0) return { claimed: true };
        const { rows } = await db.query<{ fingerprint: string; status: number | null; body: string | null }>(
          'SELECT fingerprint, status, body FROM idempotency_keys WHERE key = $1',
          [key],
        );
        const held = rows[0];
        // Released between the two statements: claim it again.
        if (!held) continue;
        return {
          claimed: false,
          fingerprint: held.fingerprint,
          ...(held.status !== null && held.body !== null ? { answer: { status: held.status, body: held.body } } : {}),
        };
      }
    },

    async keepIdempotentAnswer(key, { status, body }) {
      await db.query('UPDATE idempotency_keys SET status = $2, body = $3 WHERE key = $1', [key, status, body]);
    },

    async releaseIdempotencyKey(key) {
      await db.query('DELETE FROM idempotency_keys WHERE key = $1 AND status IS NULL', [key]);
    },
  };
}
