import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { MAX_PAGE_SIZE, type SqlPort } from './message-store';

/**
 * The webhook inbox: every signed delivery Meta sends is kept here whole (its bytes as received)
 * before it is answered, with the items routed out of it; dispatchers (one per API process) claim
 * pending items, hand them to their workflows and mark them done. What no workflow takes is kept
 * in the quarantine (`unrouted_webhooks`) with its classification, pointing at the delivery's bytes.
 *
 * Claims are leases (`not_before`), taken with `FOR UPDATE SKIP LOCKED`, so any number of
 * dispatchers share the inbox, and an item whose dispatcher died is claimed again once its lease ends.
 */
export interface WebhookInbox {
  /**
   * Keeps a delivery, its items and what was set aside from it, in one statement (all or nothing).
   * An item whose key is already kept (a redelivery) is not queued again, and what was set aside
   * is not quarantined again when the same bytes are (an entry not replayed yet holds them).
   * `queued`: items new here.
   */
  keepDelivery(delivery: NewDelivery): Promise<{ deliverySeq: string; queued: number }>;
  /** Up to `limit` pending items whose lease is over, leased for `leaseMs`, in the order they were kept. */
  claimInboxItems(limit: number, leaseMs: number): Promise<ClaimedItem[]>;
  /** These items were taken by their workflows. */
  completeInboxItems(seqs: string[]): Promise<void>;
  /** These items could not be handed over (Temporal unreachable): pending again in `delayMs`. */
  retryInboxItems(seqs: string[], delayMs: number, error: string): Promise<void>;
  /** No workflow takes the item: it leaves the inbox for the quarantine, classified. */
  unattachInboxItem(seq: string, classification: string): Promise<void>;
  /**
   * Forgets deliveries older than `olderThanMs` that are done with: no item pending, nothing of
   * them quarantined (those keep their bytes until an operator is done with them). Their item keys
   * go with them, so keep them longer than Meta redelivers. At most `limit` at a time; how many went.
   */
  pruneInbox(olderThanMs: number, limit: number): Promise<number>;
  /** Pending items and the age of the oldest (seconds; 0 when none). */
  inboxDepth(): Promise<{ pending: number; oldestPendingSeconds: number }>;
  /**
   * A stored message of a conversation and the delivery it came in (the first that carried it);
   * `delivery` absent when no kept delivery carried it (a platform send, or pruned past retention).
   */
  messageDelivery(query: {
    phoneNumberId: string;
    waId: string;
    messageId: string;
  }): Promise<{ stored: false } | { stored: true; delivery?: MessageDelivery }>;
  /** How many quarantine entries there are, and how many of them were never replayed. */
  countQuarantine(): Promise<{ total: number; notReplayed: number }>;
  /** Keeps a webhook with changes no workflow took, without a delivery (tests, older callers). */
  keepUnroutedWebhook(webhook: { classifications: string[]; body: unknown }): Promise<void>;
  /** The latest kept webhooks, newest first. */
  listUnroutedWebhooks(limit: number): Promise<UnroutedWebhook[]>;
  /** The quarantine, newest first: entries whose classifications start with `classification`, before the cursor. */
  listQuarantine(query: QuarantineQuery): Promise<{ entries: QuarantineEntry[]; nextCursor?: string }>;
  /** One quarantine entry with the delivery's bytes; undefined when there is none. */
  quarantineEntry(id: string): Promise<(QuarantineEntry & { raw?: Buffer; body: unknown }) | undefined>;
  /**
   * Queues a replayed delivery's items again: a new key is queued, an item no workflow took is
   * pending again, one already taken stays done (so nothing doubles). Marks the entry replayed;
   * what the registry still refuses (`refused`, e.g. `unknown_number:<id>`) is kept as a new entry
   * of the delivery, unless one not yet replayed holds it already.
   */
  requeueDelivery(entryId: string, deliverySeq: string, items: NewItem[], refused: string[]): Promise<{ queued: number }>;
  /**
   * Entries not replayed yet that hold `unknown_number:<id>` for a number the registry holds now
   * are due for a replay: those of one number (its onboarding registered it) or of one delivery
   * (kept just after its number was registered). How many.
   */
  markReplayDue(of: { phoneNumberId: string } | { deliverySeq: string }): Promise<number>;
  /** Up to `limit` entries due for a replay, leased for `leaseMs` (a replay clears it): their ids, oldest first. */
  claimDueReplays(limit: number, leaseMs: number): Promise<string[]>;
}

/**
 * Why the number registry refuses a change that names a number (`metadata.phone_number_id`): no
 * onboarding registered it (yet), or it is registered under another WABA than the entry's.
 */
export const NUMBER_REFUSALS = ['unknown_number', 'foreign_number'] as const;
export type NumberRefusal = (typeof NUMBER_REFUSALS)[number];
/** A refusal as the quarantine classifies it: `unknown_number:<phone_number_id>`. */
export const numberRefusal = (refusal: NumberRefusal, phoneNumberId: string) => `${refusal}:${phoneNumberId}`;
/** A classification a registration may lift (`unknown_number:<id>`): the entry is replayed once the number is registered. */
export const awaitsRegistration = (classification: string) => classification.startsWith('unknown_number:');
export const isNumberRefusal = (classification: string) => NUMBER_REFUSALS.some((r) => classification.startsWith(`${r}:`));

export interface QuarantineQuery {
  /** A classification or its prefix, e.g. `no_workflow:` or `messages:nul_character`. */
  classification?: string;
  cursor?: string;
  limit: number;
}

export interface QuarantineEntry {
  id: string;
  receivedAt: string;
  classifications: string[];
  /** The inbox delivery whose bytes it points at; absent for entries kept before the inbox. */
  deliveryId?: string;
  /** When it was last replayed. */
  replayedAt?: string;
}

export interface NewDelivery {
  /** The body exactly as received (the bytes the signature covers). */
  raw: Buffer;
  items: NewItem[];
  /** What the delivery holds that no workflow is addressed by; empty: nothing quarantined. */
  classifications: string[];
}

export interface NewItem {
  key: string;
  workflowId: string;
  item: unknown;
  /** The message the item carries, so that a stored message finds the bytes it came in. */
  message?: { phoneNumberId: string; id: string };
}

export interface MessageDelivery {
  deliveryId: string;
  itemId: string;
  receivedAt: string;
  /** The delivery exactly as received. */
  raw: Buffer;
}

export interface ClaimedItem {
  seq: string;
  deliverySeq: string;
  workflowId: string;
  item: unknown;
  /** Epoch ms the delivery was received. */
  receivedAt: number;
  /** Claims so far, this one included. */
  attempts: number;
}

export interface UnroutedWebhook {
  receivedAt: string;
  classifications: string[];
  /** The delivery as JSON, or `{ invalidUtf8: true, base64 }` for bytes that are not UTF-8. */
  body: unknown;
}

export const INBOX_SCHEMA = `
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  received_at timestamptz NOT NULL DEFAULT now(),
  raw bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_items (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  delivery_seq bigint NOT NULL REFERENCES webhook_deliveries (seq),
  key text NOT NULL UNIQUE,
  workflow_id text NOT NULL,
  item text NOT NULL,
  state text NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0,
  not_before timestamptz NOT NULL DEFAULT now(),
  last_error text,
  done_at timestamptz
);
CREATE INDEX IF NOT EXISTS webhook_items_pending ON webhook_items (seq) WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS unrouted_webhooks (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  received_at timestamptz NOT NULL DEFAULT now(),
  classifications jsonb NOT NULL,
  body jsonb
);
ALTER TABLE unrouted_webhooks ALTER COLUMN body DROP NOT NULL;
ALTER TABLE unrouted_webhooks ADD COLUMN IF NOT EXISTS delivery_seq bigint REFERENCES webhook_deliveries (seq);
ALTER TABLE unrouted_webhooks ADD COLUMN IF NOT EXISTS replayed_at timestamptz;
ALTER TABLE unrouted_webhooks ADD COLUMN IF NOT EXISTS replay_due_at timestamptz;
CREATE INDEX IF NOT EXISTS unrouted_webhooks_delivery ON unrouted_webhooks (delivery_seq);
CREATE INDEX IF NOT EXISTS unrouted_webhooks_classifications ON unrouted_webhooks USING gin (classifications);
CREATE INDEX IF NOT EXISTS unrouted_webhooks_replay_due ON unrouted_webhooks (replay_due_at) WHERE replay_due_at IS NOT NULL;
ALTER TABLE unrouted_webhooks ADD COLUMN IF NOT EXISTS digest text;
CREATE UNIQUE INDEX IF NOT EXISTS unrouted_webhooks_digest ON unrouted_webhooks (digest) WHERE replayed_at IS NULL;
ALTER TABLE webhook_items ADD COLUMN IF NOT EXISTS phone_number_id text;
ALTER TABLE webhook_items ADD COLUMN IF NOT EXISTS message_id text;
-- By digest: Meta sets no length on a message id, and an index entry has one.
CREATE INDEX IF NOT EXISTS webhook_items_message ON webhook_items (phone_number_id, md5(message_id)) WHERE message_id IS NOT NULL;
`;

// Items are passed as text (JSON), never jsonb: a lone surrogate Meta sent stays as sent.
const KEEP_DELIVERY = `
WITH d AS (
  INSERT INTO webhook_deliveries (raw) VALUES ($1) RETURNING seq
), i AS (
  INSERT INTO webhook_items (delivery_seq, key, workflow_id, item, phone_number_id, message_id)
  SELECT d.seq, x.key, x.workflow_id, x.item, x.phone_number_id, x.message_id
  FROM d, unnest($2::text[], $3::text[], $4::text[], $7::text[], $8::text[])
    WITH ORDINALITY AS x(key, workflow_id, item, phone_number_id, message_id, n)
  ORDER BY x.n
  ON CONFLICT (key) DO NOTHING
  RETURNING 1
), q AS (
  INSERT INTO unrouted_webhooks (delivery_seq, classifications, digest)
  SELECT d.seq, $5::jsonb, $6 FROM d WHERE jsonb_array_length($5::jsonb) > 0
  ON CONFLICT (digest) WHERE replayed_at IS NULL DO NOTHING
  RETURNING 1
)
SELECT d.seq::text AS seq, (SELECT count(*) FROM i)::int AS queued, (SELECT count(*) FROM q)::int AS kept FROM d`;

const CLAIM = `
UPDATE webhook_items w SET not_before = now() + $2 * interval '1 millisecond', attempts = w.attempts + 1
FROM webhook_deliveries d
WHERE d.seq = w.delivery_seq AND w.seq IN (
  SELECT seq FROM webhook_items WHERE state = 'pending' AND not_before <= now()
  ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED
)
RETURNING w.seq::text AS seq, w.delivery_seq::text AS delivery_seq, w.workflow_id, w.item, w.attempts,
  (extract(epoch FROM d.received_at) * 1000)::float8 AS received_at`;

interface QuarantineRow {
  seq: string;
  received_at: Date | string;
  classifications: string[];
  delivery_seq: string | null;
  replayed_at: Date | string | null;
}

const QUARANTINE_COLUMNS = `u.seq::text AS seq, COALESCE(d.received_at, u.received_at) AS received_at, u.classifications,
  u.delivery_seq::text AS delivery_seq, u.replayed_at`;

function toEntry(r: QuarantineRow): QuarantineEntry {
  return {
    id: r.seq,
    receivedAt: new Date(r.received_at).toISOString(),
    classifications: r.classifications,
    ...(r.delivery_seq !== null ? { deliveryId: r.delivery_seq } : {}),
    ...(r.replayed_at !== null ? { replayedAt: new Date(r.replayed_at).toISOString() } : {}),
  };
}

export function webhookInbox(db: SqlPort): WebhookInbox {
  return {
    async keepDelivery({ raw, items, classifications }) {
      const { rows } = await db.query<{ seq: string; queued: number }>(KEEP_DELIVERY, [
        raw,
        items.map((i) => i.key),
        items.map((i) => i.workflowId),
        items.map((i) => JSON.stringify(i.item)),
        JSON.stringify(classifications),
        createHash('sha256').update(raw).digest('base64url'),
        items.map((i) => i.message?.phoneNumberId ?? null),
        items.map((i) => i.message?.id ?? null),
      ]);
      return { deliverySeq: rows[0]!.seq, queued: Number(rows[0]!.queued) };
    },

    async claimInboxItems(limit, leaseMs) {
      const { rows } = await db.query<{
        seq: string;
        delivery_seq: string;
        workflow_id: string;
        item: string;
        attempts: number;
        received_at: number;
      }>(CLAIM, [limit, leaseMs]);
      return rows
        .map((r) => ({
          seq: r.seq,
          deliverySeq: r.delivery_seq,
          workflowId: r.workflow_id,
          item: JSON.parse(r.item) as unknown,
          receivedAt: Number(r.received_at),
          attempts: Number(r.attempts),
        }))
        .sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1));
    },

    async completeInboxItems(seqs) {
      if (seqs.length === 0) return;
      await db.query(
        `UPDATE webhook_items SET state = 'done', done_at = now(), last_error = NULL
         WHERE seq = ANY($1::bigint[]) AND state = 'pending'`,
        [seqs],
      );
    },

    async retryInboxItems(seqs, delayMs, error) {
      if (seqs.length === 0) return;
      await db.query(
        `UPDATE webhook_items SET not_before = now() + $2 * interval '1 millisecond', last_error = $3
         WHERE seq = ANY($1::bigint[]) AND state = 'pending'`,
        [seqs, delayMs, error.slice(0, 500)],
      );
    },

    async unattachInboxItem(seq, classification) {
      await db.query(
        `WITH w AS (
           UPDATE webhook_items SET state = 'unattached', done_at = now(), last_error = $2
           WHERE seq = $1 AND state = 'pending' RETURNING delivery_seq
         )
         INSERT INTO unrouted_webhooks (delivery_seq, classifications) SELECT delivery_seq, jsonb_build_array($2::text) FROM w`,
        [seq, classification],
      );
    },

    async pruneInbox(olderThanMs, limit) {
      const { rows } = await db.query<{ pruned: number }>(
        `WITH old AS (
           SELECT d.seq FROM webhook_deliveries d
           WHERE d.received_at < now() - $1 * interval '1 millisecond'
             AND NOT EXISTS (SELECT 1 FROM webhook_items w WHERE w.delivery_seq = d.seq AND w.state <> 'done')
             AND NOT EXISTS (SELECT 1 FROM unrouted_webhooks u WHERE u.delivery_seq = d.seq)
           ORDER BY d.seq LIMIT $2
         ), items AS (
           DELETE FROM webhook_items w USING old WHERE w.delivery_seq = old.seq RETURNING 1
         ), gone AS (
           DELETE FROM webhook_deliveries d USING old WHERE d.seq = old.seq RETURNING 1
         )
         SELECT (SELECT count(*) FROM gone)::int AS pruned, (SELECT count(*) FROM items)::int AS items`,
        [olderThanMs, limit],
      );
      return Number(rows[0]?.pruned ?? 0);
    },

    async inboxDepth() {
      const { rows } = await db.query<{ pending: number; oldest: number | null }>(
        `SELECT count(*)::int AS pending, extract(epoch FROM now() - min(d.received_at))::float8 AS oldest
         FROM webhook_items w JOIN webhook_deliveries d ON d.seq = w.delivery_seq WHERE w.state = 'pending'`,
      );
      return { pending: Number(rows[0]?.pending ?? 0), oldestPendingSeconds: Math.max(0, Number(rows[0]?.oldest ?? 0)) };
    },

    async messageDelivery({ phoneNumberId, waId, messageId }) {
      // The first item that carried it and was taken (the message stored is the first applied);
      // one still pending or set aside only when none was.
      const { rows } = await db.query<{
        seq: string | null;
        delivery_seq: string | null;
        received_at: Date | string | null;
        raw: Uint8Array | null;
      }>(
        `SELECT w.seq::text AS seq, w.delivery_seq::text AS delivery_seq, d.received_at, d.raw
         FROM messages m
         LEFT JOIN LATERAL (
           SELECT seq, delivery_seq FROM webhook_items
           WHERE phone_number_id = m.phone_number_id AND md5(message_id) = md5(m.id) AND message_id = m.id
           ORDER BY (state = 'done') DESC, seq LIMIT 1
         ) w ON true
         LEFT JOIN webhook_deliveries d ON d.seq = w.delivery_seq
         WHERE m.phone_number_id = $1 AND m.wa_id = $2 AND m.id = $3`,
        [phoneNumberId, waId, messageId],
      );
      const r = rows[0];
      if (!r) return { stored: false };
      if (r.raw === null || r.seq === null || r.delivery_seq === null || r.received_at === null) return { stored: true };
      const delivery = {
        deliveryId: r.delivery_seq,
        itemId: r.seq,
        receivedAt: new Date(r.received_at).toISOString(),
        raw: Buffer.from(r.raw),
      };
      return { stored: true, delivery };
    },

    async countQuarantine() {
      const { rows } = await db.query<{ total: number; not_replayed: number }>(
        `SELECT count(*)::int AS total, (count(*) FILTER (WHERE replayed_at IS NULL))::int AS not_replayed FROM unrouted_webhooks`,
      );
      return { total: Number(rows[0]?.total ?? 0), notReplayed: Number(rows[0]?.not_replayed ?? 0) };
    },

    async keepUnroutedWebhook({ classifications, body }) {
      await db.query('INSERT INTO unrouted_webhooks (classifications, body) VALUES ($1, $2)', [
        JSON.stringify(classifications),
        JSON.stringify(body),
      ]);
    },

    async listQuarantine({ classification, cursor, limit }) {
      const { rows } = await db.query<QuarantineRow>(
        `SELECT ${QUARANTINE_COLUMNS} FROM unrouted_webhooks u LEFT JOIN webhook_deliveries d ON d.seq = u.delivery_seq
         WHERE ($1::text IS NULL OR EXISTS (
                 SELECT 1 FROM jsonb_array_elements_text(u.classifications) c WHERE starts_with(c, $1::text)))
           AND ($2::bigint IS NULL OR u.seq < $2::bigint)
         ORDER BY u.seq DESC LIMIT $3`,
        [classification ?? null, cursor ?? null, limit + 1],
      );
      const page = rows.slice(0, limit).map(toEntry);
      return { entries: page, ...(rows.length > limit ? { nextCursor: page[page.length - 1]!.id } : {}) };
    },

    async quarantineEntry(id) {
      const { rows } = await db.query<QuarantineRow & { raw: Uint8Array | null; body: unknown }>(
        `SELECT ${QUARANTINE_COLUMNS}, d.raw, u.body FROM unrouted_webhooks u
         LEFT JOIN webhook_deliveries d ON d.seq = u.delivery_seq WHERE u.seq = $1`,
        [id],
      );
      const r = rows[0];
      if (!r) return undefined;
      const raw = r.raw ? Buffer.from(r.raw) : undefined;
      return { ...toEntry(r), ...(raw ? { raw } : {}), body: raw ? rawBody(raw) : r.body };
    },

    async requeueDelivery(entryId, deliverySeq, items, refused) {
      const { rows } = await db.query<{ queued: number }>(
        `WITH i AS (
           INSERT INTO webhook_items (delivery_seq, key, workflow_id, item, phone_number_id, message_id)
           SELECT $1, x.key, x.workflow_id, x.item, x.phone_number_id, x.message_id
           FROM unnest($2::text[], $3::text[], $4::text[], $7::text[], $8::text[])
             WITH ORDINALITY AS x(key, workflow_id, item, phone_number_id, message_id, n)
           ORDER BY x.n
           ON CONFLICT (key) DO UPDATE SET state = 'pending', not_before = now(), attempts = 0, last_error = NULL, done_at = NULL,
             phone_number_id = EXCLUDED.phone_number_id, message_id = EXCLUDED.message_id
             WHERE webhook_items.state = 'unattached'
           RETURNING 1
         ), u AS (
           UPDATE unrouted_webhooks SET replayed_at = now(), replay_due_at = NULL WHERE seq = $5 RETURNING 1
         ), r AS (
           INSERT INTO unrouted_webhooks (delivery_seq, classifications)
           SELECT $1, $6::jsonb WHERE jsonb_array_length($6::jsonb) > 0 AND NOT EXISTS (
             SELECT 1 FROM unrouted_webhooks WHERE delivery_seq = $1 AND seq <> $5 AND replayed_at IS NULL
               AND classifications = $6::jsonb)
           RETURNING 1
         )
         SELECT (SELECT count(*) FROM i)::int AS queued, (SELECT count(*) FROM u)::int AS marked,
           (SELECT count(*) FROM r)::int AS kept`,
        [
          deliverySeq,
          items.map((i) => i.key),
          items.map((i) => i.workflowId),
          items.map((i) => JSON.stringify(i.item)),
          entryId,
          JSON.stringify(refused),
          items.map((i) => i.message?.phoneNumberId ?? null),
          items.map((i) => i.message?.id ?? null),
        ],
      );
      return { queued: Number(rows[0]?.queued ?? 0) };
    },

    async markReplayDue(of) {
      const due = `UPDATE unrouted_webhooks u SET replay_due_at = now()
        WHERE u.replayed_at IS NULL AND u.replay_due_at IS NULL AND u.delivery_seq IS NOT NULL AND `;
      const { rows } =
        'phoneNumberId' in of
          ? await db.query<{ seq: string }>(`${due} u.classifications @> jsonb_build_array($1::text) RETURNING u.seq`, [
              numberRefusal('unknown_number', of.phoneNumberId),
            ])
          : await db.query<{ seq: string }>(
              `${due} u.delivery_seq = $1 AND EXISTS (
                 SELECT 1 FROM jsonb_array_elements_text(u.classifications) c
                 JOIN numbers n ON c = $2 || n.phone_number_id) RETURNING u.seq`,
              [of.deliverySeq, numberRefusal('unknown_number', '')],
            );
      return rows.length;
    },

    async claimDueReplays(limit, leaseMs) {
      const { rows } = await db.query<{ seq: string }>(
        `UPDATE unrouted_webhooks SET replay_due_at = now() + $2 * interval '1 millisecond'
         WHERE seq IN (
           SELECT seq FROM unrouted_webhooks WHERE replay_due_at <= now() ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING seq::text AS seq`,
        [limit, leaseMs],
      );
      return rows.map((r) => r.seq).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    },

    async listUnroutedWebhooks(limit) {
      const { rows } = await db.query<{
        received_at: Date | string;
        classifications: string[];
        body: unknown;
        raw: Uint8Array | null;
      }>(
        `SELECT COALESCE(d.received_at, u.received_at) AS received_at, u.classifications, u.body, d.raw
         FROM unrouted_webhooks u LEFT JOIN webhook_deliveries d ON d.seq = u.delivery_seq
         ORDER BY u.seq DESC LIMIT $1`,
        [Math.min(Math.max(1, limit), MAX_PAGE_SIZE)],
      );
      return rows.map((r) => ({
        receivedAt: new Date(r.received_at).toISOString(),
        classifications: r.classifications,
        body: r.raw ? rawBody(Buffer.from(r.raw)) : r.body,
      }));
    },
  };
}

/** A kept delivery's bytes as JSON when they are UTF-8 JSON, else as base64 (flagged). */
export function rawBody(raw: Buffer): unknown {
  if (isUtf8(raw)) {
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch {
      // kept below, as bytes
    }
  }
  return { invalidUtf8: !isUtf8(raw), base64: raw.toString('base64') };
}
