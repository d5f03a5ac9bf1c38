import { createNumberRegistry, NUMBER_REGISTRY_SCHEMA, type NumberRegistry } from './number-registry';
import { createSendQueue, SEND_QUEUE_SCHEMA, type SendQueue } from './send-queue';
import {
  MESSAGE_STATUS_ORDER,
  type MessageRecord,
  type MessageStatus,
  type MessageStatusUpdate,
  type PricingClass,
} from '../machines/conversation/messages';
import { IDEMPOTENCY_SCHEMA, idempotencyKeys, type IdempotencyKeys } from './idempotency';

/**
 * The durable record of every message of every conversation. Workflows write it through
 * activities (they cannot hold 100 000 messages in their state); the API reads it.
 *
 * Every write is idempotent and commutative, so redeliveries, activity retries and statuses that
 * arrive shuffled or before their message all end in the same record.
 */
export interface MessageStore extends IdempotencyKeys {
  /** Upsert by `id` (or the same message's wamid / clientMessageId); the status never moves back. */
  recordMessage(record: MessageRecord): Promise<void>;
  /** Applies a status to its message, or keeps it until the message is recorded. */
  applyStatus(update: MessageStatusUpdate): Promise<void>;
  /** Applies statuses kept for these wamids before their sends' wamids were written (by the sender, in bulk). */
  applyPendingStatuses(phoneNumberId: string, wamids: string[]): Promise<void>;
  /** One page of a conversation, newest first unless `order: 'asc'`. */
  listMessages(query: ListMessagesQuery): Promise<MessagePage>;
  /** Keeps a webhook with changes no workflow took (unknown fields, numbers without onboarding). */
  keepUnroutedWebhook(webhook: { classifications: string[]; body: unknown }): Promise<void>;
  /** The latest kept webhooks, newest first. */
  listUnroutedWebhooks(limit: number): Promise<UnroutedWebhook[]>;
  /** Each number's send queue: the platform sends not yet handed to Meta (./send-queue). */
  queue: SendQueue;
  /** The number registry: each number's onboarding, sending state and sealed token (./number-registry). */
  numbers: NumberRegistry;
  close(): Promise<void>;
}

export interface UnroutedWebhook {
  receivedAt: string;
  classifications: string[];
  body: unknown;
}

export interface ListMessagesQuery {
  phoneNumberId: string;
  waId: string;
  /** 1..200 */
  limit: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
  order?: 'asc' | 'desc';
}

export interface MessagePage {
  messages: MessageRecord[];
  /** Absent on the last page. */
  nextCursor?: string;
}

/** The little of SQL the store needs; `pg` and PGlite both fit it. Text without params may hold several statements. */
export interface SqlPort {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: T[] }>;
}

/** A query the caller got wrong (bad cursor, limit out of range): the API answers 400. */
export class InvalidMessageQueryError extends Error {
  constructor(
    readonly field: 'cursor' | 'limit',
    message: string,
  ) {
    super(message);
    this.name = 'InvalidMessageQueryError';
  }
}

export const MAX_PAGE_SIZE = 200;

// `received` outranks every delivery status, so nothing ever moves it; `failed` is last, so it ends one.
// `held` ranks with `queued` (both wait in the send queue): only the sender moves between them.
const RECEIVED_RANK = 100;
export function statusRank(status: MessageStatus): number {
  if (status === 'received') return RECEIVED_RANK;
  return MESSAGE_STATUS_ORDER.indexOf(status === 'held' ? 'queued' : status);
}

// Serializes schema creation when the worker and the API start at once on one PostgreSQL.
const SCHEMA_LOCK = 7_348_201_635;
const SCHEMA = `
SELECT pg_advisory_xact_lock(${SCHEMA_LOCK});
CREATE TABLE IF NOT EXISTS messages (
  seq bigint GENERATED ALWAYS AS IDENTITY,
  id text PRIMARY KEY,
  wamid text,
  client_message_id text,
  phone_number_id text NOT NULL,
  wa_id text NOT NULL,
  direction text NOT NULL,
  source text NOT NULL,
  type text NOT NULL,
  content jsonb NOT NULL,
  ts bigint NOT NULL,
  status text NOT NULL,
  status_rank smallint NOT NULL,
  status_at bigint,
  error_code integer,
  error_title text,
  pricing jsonb NOT NULL,
  notice jsonb
);
ALTER TABLE messages ADD COLUMN IF NOT EXISTS reason text;
ALTER TABLE messages ADD COLUMN IF NOT EXISTS remedy text;
CREATE INDEX IF NOT EXISTS messages_conversation ON messages (phone_number_id, wa_id, ts, seq);
CREATE UNIQUE INDEX IF NOT EXISTS messages_wamid ON messages (wamid);
CREATE UNIQUE INDEX IF NOT EXISTS messages_client_message_id ON messages (phone_number_id, client_message_id);
CREATE TABLE IF NOT EXISTS pending_statuses (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  phone_number_id text NOT NULL,
  wamid text,
  client_message_id text,
  "update" jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS pending_statuses_wamid ON pending_statuses (phone_number_id, wamid);
CREATE INDEX IF NOT EXISTS pending_statuses_client_message_id ON pending_statuses (phone_number_id, client_message_id);
CREATE TABLE IF NOT EXISTS unrouted_webhooks (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  received_at timestamptz NOT NULL DEFAULT now(),
  classifications jsonb NOT NULL,
  body jsonb NOT NULL
);
${SEND_QUEUE_SCHEMA}
${NUMBER_REGISTRY_SCHEMA}
${IDEMPOTENCY_SCHEMA}`;

export interface MessageRow {
  seq: string | number;
  id: string;
  wamid: string | null;
  client_message_id: string | null;
  phone_number_id: string;
  wa_id: string;
  direction: MessageRecord['direction'];
  source: MessageRecord['source'];
  type: string;
  content: Record<string, unknown>;
  ts: string | number;
  status: MessageStatus;
  status_at: string | number | null;
  error_code: number | null;
  error_title: string | null;
  pricing: PricingClass;
  notice: MessageRecord['notice'] | null;
  reason: string | null;
  remedy: string | null;
}

/** How a stored message is found again: its wamid (whether it is the id or was learned) or client id. */
type MessageKeys = Pick<MessageRow, 'phone_number_id' | 'wamid' | 'client_message_id'>;

/** The forward-only change a status (or a re-recorded message) makes to a stored message. */
interface Change {
  status: MessageStatus;
  statusAt: number | null;
  errorCode: number | null;
  errorTitle: string | null;
  wamid: string | null;
  clientMessageId: string | null;
  /** Replaces predicted pricing when its basis is `meta`. */
  pricing: PricingClass | null;
}

// Every expression reads the row as it was before this UPDATE; the row is locked while it runs, so
// concurrent changes to one message apply one after the other.
const APPLY_CHANGE = `
UPDATE messages m SET
  status      = CASE WHEN $3 > m.status_rank THEN $2 ELSE m.status END,
  status_rank = CASE WHEN $3 > m.status_rank THEN $3 ELSE m.status_rank END,
  status_at   = CASE WHEN $3 > m.status_rank THEN COALESCE($4, m.status_at) ELSE m.status_at END,
  error_code  = CASE WHEN $3 > m.status_rank THEN $5 ELSE m.error_code END,
  error_title = CASE WHEN $3 > m.status_rank THEN $6 ELSE m.error_title END,
  reason = CASE WHEN $3 > m.status_rank AND m.status_rank = 0 THEN NULL ELSE m.reason END,
  remedy = CASE WHEN $3 > m.status_rank AND m.status_rank = 0 THEN NULL ELSE m.remedy END,
  wamid = COALESCE(m.wamid, $7),
  client_message_id = COALESCE(m.client_message_id, $8),
  pricing = CASE
    WHEN $9::jsonb->>'basis' = 'meta' AND (m.pricing->>'basis' IS DISTINCT FROM 'meta' OR $3 > m.status_rank) THEN $9::jsonb
    ELSE m.pricing END
WHERE m.id = (
  SELECT id FROM messages
  WHERE phone_number_id = $1 AND (id = $10 OR wamid = $7 OR client_message_id = $8)
  ORDER BY (id = $10) DESC NULLS LAST, (wamid = $7) DESC NULLS LAST
  LIMIT 1
)
RETURNING m.phone_number_id, m.wamid, m.client_message_id`;

/** The message store over any PostgreSQL dialect speaker; creates its tables if they are missing. */
export async function createSqlMessageStore(db: SqlPort, close: () => Promise<void>): Promise<MessageStore> {
  await db.query(SCHEMA);

  /** Applies `change` to the message `id` or matching its keys; undefined when there is none. */
  async function apply(phoneNumberId: string, change: Change, id: string | null = null): Promise<MessageKeys | undefined> {
    const { rows } = await db.query<MessageKeys>(APPLY_CHANGE, [
      phoneNumberId,
      change.status,
      statusRank(change.status),
      change.statusAt,
      change.errorCode,
      change.errorTitle,
      change.wamid,
      change.clientMessageId,
      change.pricing,
      id,
    ]);
    return rows[0];
  }

  /**
   * Applies the statuses kept for a message that now exists (or has just learned its wamid), and
   * only then forgets them, so a crash in between loses nothing.
   */
  async function drainPending(keys: MessageKeys): Promise<void> {
    for (let known = keys; ;) {
      const { rows } = await db.query<{ seq: string; update: MessageStatusUpdate }>(
        `SELECT seq, "update" FROM pending_statuses
         WHERE phone_number_id = $1 AND (wamid = $2 OR client_message_id = $3) ORDER BY seq`,
        [known.phone_number_id, known.wamid, known.client_message_id],
      );
      const applied: string[] = [];
      let learned: MessageKeys | undefined;
      for (const { seq, update } of rows) {
        const row = await apply(update.phoneNumberId, statusChange(update));
        if (!row) continue;
        applied.push(String(seq));
        if (row.wamid !== known.wamid || row.client_message_id !== known.client_message_id) learned = row;
      }
      if (applied.length === 0) return;
      await db.query('DELETE FROM pending_statuses WHERE seq = ANY($1::bigint[])', [applied]);
      if (!learned) return;
      known = learned;
    }
  }

  let closed: Promise<void> | undefined;

  return {
    ...idempotencyKeys(db),

    async recordMessage(record) {
      const wamid = record.wamid ?? (record.id.startsWith('client:') ? null : record.id);
      const clientMessageId = record.clientMessageId ?? null;
      const { rows } = await db.query<MessageKeys>(
        `INSERT INTO messages (id, wamid, client_message_id, phone_number_id, wa_id, direction, source, type,
           content, ts, status, status_rank, status_at, error_code, error_title, pricing, notice)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $14, $15, $16::jsonb, $17::jsonb)
         ON CONFLICT DO NOTHING
         RETURNING phone_number_id, wamid, client_message_id`,
        [
          record.id,
          wamid,
          clientMessageId,
          record.phoneNumberId,
          record.waId,
          record.direction,
          record.source,
          record.type,
          record.content,
          record.timestamp,
          record.status,
          statusRank(record.status),
          record.statusAt ?? null,
          record.errorCode ?? null,
          record.errorTitle ?? null,
          record.pricing,
          record.notice ?? null,
        ],
      );
      // Already there (by id, wamid or client id): what was written first stays, the status may
      // only move forward and the keys are completed.
      const keys =
        rows[0] ??
        (await apply(
          record.phoneNumberId,
          {
            status: record.status,
            statusAt: record.statusAt ?? null,
            errorCode: record.errorCode ?? null,
            errorTitle: record.errorTitle ?? null,
            wamid,
            clientMessageId,
            pricing: record.pricing,
          },
          record.id,
        ));
      if (!keys) throw new Error(`message ${record.id} is already recorded for another phone number id`);
      await drainPending(keys);
    },

    async applyStatus(update) {
      if (!update.wamid && !update.clientMessageId) throw new Error('a status update needs a wamid or a clientMessageId');
      const row = await apply(update.phoneNumberId, statusChange(update));
      if (row) return drainPending(row);
      await db.query(
        'INSERT INTO pending_statuses (phone_number_id, wamid, client_message_id, "update") VALUES ($1, $2, $3, $4::jsonb)',
        [update.phoneNumberId, update.wamid ?? null, update.clientMessageId ?? null, update],
      );
      // The message may have been recorded between the two statements; its own drain could then
      // have missed this status, so look again.
      await drainPending({
        phone_number_id: update.phoneNumberId,
        wamid: update.wamid ?? null,
        client_message_id: update.clientMessageId ?? null,
      });
    },

    async applyPendingStatuses(phoneNumberId, wamids) {
      if (wamids.length === 0) return;
      const { rows } = await db.query<{ wamid: string }>(
        'SELECT DISTINCT wamid FROM pending_statuses WHERE phone_number_id = $1 AND wamid = ANY($2::text[])',
        [phoneNumberId, wamids],
      );
      for (const { wamid } of rows) await drainPending({ phone_number_id: phoneNumberId, wamid, client_message_id: null });
    },

    async listMessages({ phoneNumberId, waId, limit, cursor, order = 'desc' }) {
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
        throw new InvalidMessageQueryError('limit', `limit must be an integer from 1 to ${MAX_PAGE_SIZE}`);
      }
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      const [cmp, dir] = order === 'asc' ? ['>', 'ASC'] : ['<', 'DESC'];
      const { rows } = await db.query<MessageRow>(
        `SELECT * FROM messages
         WHERE phone_number_id = $1 AND wa_id = $2 ${after ? `AND (ts, seq) ${cmp} ($4::bigint, $5::bigint)` : ''}
         ORDER BY ts ${dir}, seq ${dir} LIMIT $3`,
        [phoneNumberId, waId, limit + 1, ...(after ? [after.ts, after.seq] : [])],
      );
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        messages: page.map(toRecord),
        ...(rows.length > limit && last ? { nextCursor: encodeCursor({ ts: Number(last.ts), seq: String(last.seq) }) } : {}),
      };
    },

    async keepUnroutedWebhook({ classifications, body }) {
      await db.query('INSERT INTO unrouted_webhooks (classifications, body) VALUES ($1, $2)', [
        JSON.stringify(classifications),
        JSON.stringify(body),
      ]);
    },

    async listUnroutedWebhooks(limit) {
      const { rows } = await db.query<{ received_at: Date | string; classifications: string[]; body: unknown }>(
        'SELECT received_at, classifications, body FROM unrouted_webhooks ORDER BY seq DESC LIMIT $1',
        [Math.min(Math.max(1, limit), MAX_PAGE_SIZE)],
      );
      return rows.map((r) => ({
        receivedAt: new Date(r.received_at).toISOString(),
        classifications: r.classifications,
        body: r.body,
      }));
    },

    queue: createSendQueue(db),
    numbers: createNumberRegistry(db),

    close() {
      closed ??= close();
      return closed;
    },
  };
}

function statusChange(update: MessageStatusUpdate): Change {
  return {
    status: update.status,
    statusAt: update.timestamp,
    errorCode: update.errorCode ?? null,
    errorTitle: update.errorTitle ?? null,
    wamid: update.wamid ?? null,
    clientMessageId: update.clientMessageId ?? null,
    pricing: update.pricing ? { ...update.pricing, basis: 'meta' } : null,
  };
}

export function toRecord(row: MessageRow): MessageRecord {
  return {
    id: row.id,
    // A message whose id is its wamid does not repeat it.
    ...(row.wamid !== null && row.wamid !== row.id ? { wamid: row.wamid } : {}),
    ...(row.client_message_id !== null ? { clientMessageId: row.client_message_id } : {}),
    phoneNumberId: row.phone_number_id,
    waId: row.wa_id,
    direction: row.direction,
    source: row.source,
    type: row.type,
    content: row.content,
    timestamp: Number(row.ts),
    status: row.status,
    ...(row.status_at !== null ? { statusAt: Number(row.status_at) } : {}),
    ...(row.error_code !== null ? { errorCode: row.error_code } : {}),
    ...(row.error_title !== null ? { errorTitle: row.error_title } : {}),
    pricing: row.pricing,
    ...(row.notice !== null ? { notice: row.notice } : {}),
    ...(row.reason !== null ? { reason: row.reason } : {}),
    ...(row.remedy !== null ? { remedy: row.remedy } : {}),
  };
}

interface CursorKey {
  ts: number;
  /** bigint, as a decimal string */
  seq: string;
}

function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify([key.ts, key.seq])).toString('base64url');
}

function decodeCursor(cursor: string): CursorKey {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  if (
    !Array.isArray(key) ||
    key.length !== 2 ||
    !Number.isSafeInteger(key[0]) ||
    typeof key[1] !== 'string' ||
    !/^\d{1,18}$/.test(key[1])
  ) {
    throw new InvalidMessageQueryError('cursor', 'cursor is not one this API returned');
  }
  return { ts: key[0], seq: key[1] };
}
