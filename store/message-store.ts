import { DEFAULT_CONVERSATION_SETTINGS } from '../machines/conversation/settings';
import { createNumberRegistry, NUMBER_REGISTRY_SCHEMA, type NumberRegistry } from './number-registry';
import { createSendQueue, SEND_QUEUE_SCHEMA, type SendQueue } from './send-queue';
import {
  MESSAGE_STATUS_ORDER,
  type MessageRecord,
  type MessageStatus,
  type MessageStatusUpdate,
  type PricingClass,
} from '../machines/conversation/messages';
import { messageRefusal } from '../machines/conversation/rules';
import { IDEMPOTENCY_SCHEMA, idempotencyKeys, type IdempotencyKeys } from './idempotency';
import { contactBook, CONTACTS_SCHEMA, type ContactBook } from './contacts';
import { conversationRows, CONVERSATIONS_SCHEMA, type ConversationRows } from './conversations';
import { customerDirectory, CUSTOMERS_SCHEMA, type CustomerDirectory } from './customers';
import {
  applyPendingHistoryMedia,
  HISTORY_MEDIA_SCHEMA,
  historyMediaStore,
  MEDIA_PLACEHOLDER,
  type HistoryMediaStore,
} from './history-media';
import { INBOX_SCHEMA, webhookInbox, type WebhookInbox } from './inbox';
import { pushOutbox, PUSH_OUTBOX_SCHEMA, type PushOutbox } from './push-outbox';
import { messageTemplates, TEMPLATES_SCHEMA, type MessageTemplates } from './templates';

/**
 * The durable record of every message of every conversation. Workflows write it through
 * activities (they cannot hold 100 000 messages in their state); the API reads it.
 *
 * Every write is idempotent and commutative, so redeliveries, activity retries and statuses that
 * arrive shuffled or before their message all end in the same record.
 */
export interface MessageStore
  extends
    IdempotencyKeys,
    WebhookInbox,
    MessageTemplates,
    ContactBook,
    CustomerDirectory,
    PushOutbox,
    HistoryMediaStore,
    ConversationRows {
  /** Upsert by `id` (or the same message's wamid / clientMessageId); the status never moves back. */
  recordMessage(record: MessageRecord): Promise<void>;
  /** Applies a status to its message, or keeps it until the message is recorded. */
  applyStatus(update: MessageStatusUpdate): Promise<void>;
  /** Applies statuses kept for these wamids before their sends' wamids were written (by the sender, in bulk). */
  applyPendingStatuses(phoneNumberId: string, wamids: string[]): Promise<void>;
  /** One page of a conversation, newest first unless `order: 'asc'`. */
  listMessages(query: ListMessagesQuery): Promise<MessagePage>;
  /** The statuses kept for messages not (yet) recorded in a conversation, oldest first. */
  listOrphanStatuses(query: { phoneNumberId: string; waId: string; limit: number }): Promise<OrphanStatus[]>;
  /** A number's conversations by last activity, newest first, with counts and the customer-service window. */
  listConversations(query: ListConversationsQuery): Promise<ConversationPage>;
  /** Keeps an effect that cannot succeed, with its error; once per activity execution. */
  parkEffect(effect: ParkedEffectInput): Promise<void>;
  /** One page of parked effects, newest first. */
  listParkedEffects(query: { limit: number; cursor?: string }): Promise<ParkedEffectPage>;
  /** How many effects are parked. */
  countParkedEffects(): Promise<number>;
  /** Each number's send queue: the platform sends not yet handed to Meta (./send-queue). */
  queue: SendQueue;
  /** The number registry: each number's onboarding, sending state and sealed token (./number-registry). */
  numbers: NumberRegistry;
  close(): Promise<void>;
}

/** A status whose message is not (yet) in the store: shown on the message once it is recorded. */
export interface OrphanStatus extends MessageStatusUpdate {
  receivedAt: string;
}

/** Why an effect was parked: a different message under a known id, or a failure retrying cannot fix. */
export type ParkReason = 'conflict' | 'failed';

export interface ParkedEffectInput {
  /** Identifies the activity execution, so that a retry after a crash parks it once. */
  key: string;
  workflowId: string;
  action: string;
  reason: ParkReason;
  error: string;
  attempts: number;
  /** The effect's parameters as the workflow gave them (the event's record). */
  params: unknown;
}

export interface ParkedEffect extends Omit<ParkedEffectInput, 'key'> {
  parkedAt: string;
}

export interface ParkedEffectPage {
  parked: ParkedEffect[];
  nextCursor?: string;
}

/** A different message under an id (or wamid) already recorded for the business number. */
export class MessageConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MessageConflictError';
  }
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

export interface ListConversationsQuery {
  phoneNumberId: string;
  /** 1..200 */
  limit: number;
  cursor?: string;
  /** Only conversations whose customer-service window is open (or closed) at `now`. */
  window?: 'open' | 'closed';
  /** Epoch ms the window is judged at. */
  now: number;
}

export interface ConversationSummary {
  waId: string;
  lastMessageAt: number;
  lastDirection: MessageRecord['direction'];
  inbound: number;
  outbound: number;
  /** The customer's last message + 24 h; null when the customer never wrote. */
  windowExpiresAt: number | null;
}

export interface ConversationPage {
  conversations: ConversationSummary[];
  nextCursor?: string;
}

/** The customer-service window: 24 h after the customer's last message. */
const SERVICE_WINDOW_MS = DEFAULT_CONVERSATION_SETTINGS.customerServiceWindowMs;

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

// An inbound message's `received` outranks every delivery status, so nothing ever moves it; an
// outbound one's (an echo, history the business sent) ranks below them all, so that Meta's statuses
// of it show. `failed` is last, so it ends one. `held` ranks with `queued` (both wait in the send
// queue): only the sender moves between them.
const INBOUND_RECEIVED_RANK = 100;
const OUTBOUND_RECEIVED_RANK = -1;
export function statusRank(status: MessageStatus, direction: MessageRecord['direction'] = 'outbound'): number {
  if (status !== 'received') return MESSAGE_STATUS_ORDER.indexOf(status === 'held' ? 'queued' : status);
  return direction === 'inbound' ? INBOUND_RECEIVED_RANK : OUTBOUND_RECEIVED_RANK;
}

// Serializes schema creation when the worker and the API start at once on one PostgreSQL.
const SCHEMA_LOCK = 7_348_201_635;
const SCHEMA = `
SELECT pg_advisory_xact_lock(${SCHEMA_LOCK});
CREATE TABLE IF NOT EXISTS messages (
  seq bigint GENERATED ALWAYS AS IDENTITY,
  id text NOT NULL,
  wamid text,
  client_message_id text,
  phone_number_id text NOT NULL,
  wa_id text NOT NULL,
  direction text NOT NULL,
  source text NOT NULL,
  type text NOT NULL,
  content jsonb NOT NULL,
  content_raw text,
  ts bigint NOT NULL,
  status text NOT NULL,
  status_rank smallint NOT NULL,
  status_at bigint,
  error_code integer,
  error_title text,
  pricing jsonb NOT NULL,
  notice jsonb,
  PRIMARY KEY (phone_number_id, id)
);
ALTER TABLE messages ADD COLUMN IF NOT EXISTS content_raw text;
ALTER TABLE messages ADD COLUMN IF NOT EXISTS reason text;
ALTER TABLE messages ADD COLUMN IF NOT EXISTS remedy text;
-- Stores written before ids were unique per business number: once, the key becomes (number, id),
-- and an echo's received ranks below the delivery statuses.
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'messages'::regclass AND contype = 'p' AND cardinality(conkey) = 1) THEN
    ALTER TABLE messages DROP CONSTRAINT messages_pkey;
    ALTER TABLE messages ADD PRIMARY KEY (phone_number_id, id);
    UPDATE messages SET status_rank = ${OUTBOUND_RECEIVED_RANK} WHERE direction = 'outbound' AND status = 'received';
  END IF;
END $$;
CREATE INDEX IF NOT EXISTS messages_conversation ON messages (phone_number_id, wa_id, ts, seq);
DROP INDEX IF EXISTS messages_wamid;
CREATE UNIQUE INDEX IF NOT EXISTS messages_number_wamid ON messages (phone_number_id, wamid);
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
CREATE TABLE IF NOT EXISTS parked_effects (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  key text NOT NULL UNIQUE,
  parked_at timestamptz NOT NULL DEFAULT now(),
  workflow_id text NOT NULL,
  action text NOT NULL,
  reason text NOT NULL,
  error text NOT NULL,
  attempts integer NOT NULL,
  params text NOT NULL
);
${INBOX_SCHEMA}
${SEND_QUEUE_SCHEMA}
${NUMBER_REGISTRY_SCHEMA}
${IDEMPOTENCY_SCHEMA}
${TEMPLATES_SCHEMA}
${CONTACTS_SCHEMA}
${CUSTOMERS_SCHEMA}
${PUSH_OUTBOX_SCHEMA}
${HISTORY_MEDIA_SCHEMA}
${CONVERSATIONS_SCHEMA}`;

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
  content_raw: string | null;
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
WHERE m.phone_number_id = $1 AND m.id = (
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
  async function apply(
    phoneNumberId: string,
    change: Change,
    id: string | null = null,
    rank = statusRank(change.status),
  ): Promise<MessageKeys | undefined> {
    const { rows } = await db.query<MessageKeys>(APPLY_CHANGE, [
      phoneNumberId,
      change.status,
      rank,
      change.statusAt,
      change.errorCode,
      change.errorTitle === null ? null : storableText(change.errorTitle),
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

  /** The stored message a record would land on, by id first, then wamid, then client id. */
  async function findExisting(phoneNumberId: string, id: string, wamid: string | null, clientMessageId: string | null) {
    const { rows } = await db.query<Pick<MessageRow, 'wa_id' | 'direction' | 'source' | 'type' | 'content' | 'content_raw'>>(
      `SELECT wa_id, direction, source, type, content, content_raw FROM messages
       WHERE phone_number_id = $1 AND (id = $2 OR wamid = $3 OR client_message_id = $4)
       ORDER BY (id = $2) DESC NULLS LAST, (wamid = $3) DESC NULLS LAST LIMIT 1`,
      [phoneNumberId, id, wamid, clientMessageId],
    );
    return rows[0];
  }

  let closed: Promise<void> | undefined;

  return {
    ...idempotencyKeys(db),
    ...webhookInbox(db),
    ...messageTemplates(db),
    ...contactBook(db),
    ...conversationRows(db),
    ...customerDirectory(db),
    ...pushOutbox(db),
    ...historyMediaStore(db, (content) => storableJson(content).json),

    async recordMessage(record) {
      const wamid = record.wamid ?? (record.id.startsWith('client:') ? null : record.id);
      const clientMessageId = record.clientMessageId ?? null;
      const content = storableJson(record.content);
      const rank = statusRank(record.status, record.direction);
      const { rows } = await db.query<MessageKeys>(
        `INSERT INTO messages (id, wamid, client_message_id, phone_number_id, wa_id, direction, source, type,
           content, content_raw, ts, status, status_rank, status_at, error_code, error_title, pricing, notice)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $14, $15, $16, $17::jsonb, $18::jsonb)
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
          storableText(record.type),
          content.json,
          content.raw,
          record.timestamp,
          record.status,
          rank,
          record.statusAt ?? null,
          record.errorCode ?? null,
          record.errorTitle === undefined ? null : storableText(record.errorTitle),
          record.pricing,
          record.notice ?? null,
        ],
      );
      let keys: MessageKeys | undefined = rows[0];
      if (!keys) {
        // Already there (by id, wamid or client id): the same message again (a redelivery, a retry,
        // history overlapping a live message) keeps what was written first, the status may only move
        // forward and the keys are completed; a different message under that id is a conflict.
        const existing = await findExisting(record.phoneNumberId, record.id, wamid, clientMessageId);
        if (existing && !sameMessage(existing, record)) {
          throw new MessageConflictError(
            `message ${record.id} of phone number id ${record.phoneNumberId} is already recorded as a different message ` +
              `(${existing.direction} ${existing.type} for ${existing.wa_id})`,
          );
        }
        keys = await apply(
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
          rank,
        );
      }
      if (!keys) throw new Error(`message ${record.id} could not be recorded nor found again`);
      await drainPending(keys);
      if (record.source === 'history' && record.type === MEDIA_PLACEHOLDER) {
        await applyPendingHistoryMedia(db, record.phoneNumberId, record.id);
      }
    },

    async applyStatus(update) {
      if (!update.wamid && !update.clientMessageId) throw new Error('a status update needs a wamid or a clientMessageId');
      const row = await apply(update.phoneNumberId, statusChange(update));
      if (row) return drainPending(row);
      await db.query(
        'INSERT INTO pending_statuses (phone_number_id, wamid, client_message_id, "update") VALUES ($1, $2, $3, $4::jsonb)',
        [update.phoneNumberId, update.wamid ?? null, update.clientMessageId ?? null, wellFormed(update)],
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

    async listConversations({ phoneNumberId, limit, cursor, window, now }) {
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
        throw new InvalidMessageQueryError('limit', `limit must be an integer from 1 to ${MAX_PAGE_SIZE}`);
      }
      const after = cursor === undefined ? undefined : decodeConversationCursor(cursor);
      const windowFilter =
        window === 'open'
          ? `AND last_customer_ts + ${SERVICE_WINDOW_MS} > $3::bigint`
          : window === 'closed'
            ? `AND (last_customer_ts IS NULL OR last_customer_ts + ${SERVICE_WINDOW_MS} <= $3::bigint)`
            : '';
      const { rows } = await db.query<{
        wa_id: string;
        last_ts: string;
        last_direction: MessageRecord['direction'];
        inbound: string;
        outbound: string;
        last_customer_ts: string | null;
      }>(
        `SELECT * FROM (
           SELECT wa_id, max(ts) AS last_ts,
             (array_agg(direction ORDER BY ts DESC, seq DESC))[1] AS last_direction,
             count(*) FILTER (WHERE direction = 'inbound') AS inbound,
             count(*) FILTER (WHERE direction = 'outbound') AS outbound,
             max(ts) FILTER (WHERE source = 'customer') AS last_customer_ts
           FROM messages WHERE phone_number_id = $1 GROUP BY wa_id
         ) c
         WHERE $3::bigint IS NOT NULL ${windowFilter} ${after ? 'AND (last_ts, wa_id) < ($4::bigint, $5::text)' : ''}
         ORDER BY last_ts DESC, wa_id DESC LIMIT $2`,
        [phoneNumberId, limit + 1, now, ...(after ? [after.ts, after.waId] : [])],
      );
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        conversations: page.map((r) => ({
          waId: r.wa_id,
          lastMessageAt: Number(r.last_ts),
          lastDirection: r.last_direction,
          inbound: Number(r.inbound),
          outbound: Number(r.outbound),
          windowExpiresAt: r.last_customer_ts === null ? null : Number(r.last_customer_ts) + SERVICE_WINDOW_MS,
        })),
        ...(rows.length > limit && last
          ? { nextCursor: Buffer.from(JSON.stringify([Number(last.last_ts), last.wa_id])).toString('base64url') }
          : {}),
      };
    },

    async listOrphanStatuses({ phoneNumberId, waId, limit }) {
      const { rows } = await db.query<{ update: MessageStatusUpdate; received_at: Date | string }>(
        `SELECT "update", received_at FROM pending_statuses
         WHERE phone_number_id = $1 AND "update"->>'waId' = $2 ORDER BY seq LIMIT $3`,
        [phoneNumberId, waId, pageSize(limit)],
      );
      return rows.map((r) => ({ ...r.update, receivedAt: new Date(r.received_at).toISOString() }));
    },

    async parkEffect(effect) {
      await db.query(
        `INSERT INTO parked_effects (key, workflow_id, action, reason, error, attempts, params)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key) DO NOTHING`,
        [
          storableText(effect.key),
          effect.workflowId,
          effect.action,
          effect.reason,
          storableText(effect.error),
          effect.attempts,
          // JSON text: escapes (a lone surrogate, a NUL) are kept as Meta sent them.
          JSON.stringify(effect.params ?? null),
        ],
      );
    },

    async listParkedEffects({ limit, cursor }) {
      const before = cursor === undefined ? undefined : decodeSeqCursor(cursor);
      const { rows } = await db.query<ParkedRow>(
        `SELECT * FROM parked_effects ${before ? 'WHERE seq < $2::bigint' : ''} ORDER BY seq DESC LIMIT $1`,
        [pageSize(limit) + 1, ...(before ? [before] : [])],
      );
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        parked: page.map((r) => ({
          parkedAt: new Date(r.parked_at).toISOString(),
          workflowId: r.workflow_id,
          action: r.action,
          reason: r.reason,
          error: r.error,
          attempts: r.attempts,
          params: JSON.parse(r.params) as unknown,
        })),
        ...(rows.length > limit && last ? { nextCursor: Buffer.from(String(last.seq)).toString('base64url') } : {}),
      };
    },

    async countParkedEffects() {
      const { rows } = await db.query<{ n: string | number }>('SELECT count(*) AS n FROM parked_effects');
      return Number(rows[0]?.n ?? 0);
    },

    queue: createSendQueue(db),
    numbers: createNumberRegistry(db),

    close() {
      closed ??= close();
      return closed;
    },
  };
}

interface ParkedRow {
  seq: string | number;
  parked_at: Date | string;
  workflow_id: string;
  action: string;
  reason: ParkReason;
  error: string;
  attempts: number;
  params: string;
}

function pageSize(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new InvalidMessageQueryError('limit', `limit must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  return limit;
}

function decodeSeqCursor(cursor: string): string {
  const seq = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{1,18}$/.test(seq)) throw new InvalidMessageQueryError('cursor', 'cursor is not one this API returned');
  return seq;
}

// --- text as Meta sent it ---------------------------------------------------------------------
// PostgreSQL's jsonb and text refuse a NUL, and jsonb a lone UTF-16 surrogate, both of which JSON
// (and so Meta) may carry. Content holding either is kept twice: as JSON text with its escapes
// (`content_raw`, read back as it came) and, made well-formed, as jsonb.

const NOT_STORABLE_ESCAPE = /\\u0000|\\ud[89a-f]/i;
// A NUL is a control character, named by code point rather than written into the pattern.
const LONE_SURROGATE_OR_NUL = new RegExp(
  `[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]|${String.fromCharCode(0)}`,
  'g',
);

function storableJson(value: unknown): { json: string; raw: string | null } {
  const raw = JSON.stringify(value);
  if (!NOT_STORABLE_ESCAPE.test(raw)) return { json: raw, raw: null };
  return { json: JSON.stringify(wellFormed(value)), raw };
}

function storableText(text: string): string {
  return text.replace(LONE_SURROGATE_OR_NUL, '\uFFFD');
}

function wellFormed<T>(value: T): T {
  if (typeof value === 'string') return storableText(value) as T;
  if (Array.isArray(value)) return value.map(wellFormed) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storableText(k), wellFormed(v)])) as T;
  }
  return value;
}

function contentOf(row: Pick<MessageRow, 'content' | 'content_raw'>): Record<string, unknown> {
  return row.content_raw !== null ? (JSON.parse(row.content_raw) as Record<string, unknown>) : row.content;
}

/**
 * Whether a record is the message already stored under its id: the same customer, direction and
 * type, and the same body (the content under its type: history adds `history_context` beside it).
 */
function sameMessage(
  row: Pick<MessageRow, 'wa_id' | 'direction' | 'source' | 'type' | 'content' | 'content_raw'>,
  record: MessageRecord,
) {
  if (row.wa_id !== record.waId || row.direction !== record.direction) return false;
  // A history placeholder again, once its media have been attached (./history-media).
  if (record.source === 'history' && record.type === MEDIA_PLACEHOLDER && row.source === 'history') return true;
  if (row.type !== storableText(record.type)) return false;
  const stored = contentOf(row);
  return canonical(stored[row.type]) === canonical(record.content[record.type]);
}

/** JSON with keys sorted (jsonb reorders keys). */
function canonical(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v: unknown) =>
      v !== null && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : v,
    ) ?? 'undefined'
  );
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
  // Meta's refusal of this one message, named with its remedy, unless coexist wrote its own reason.
  const refusal = row.status === 'failed' && row.reason === null ? messageRefusal(row.error_code ?? undefined) : undefined;
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
    content: contentOf(row),
    timestamp: Number(row.ts),
    status: row.status,
    ...(row.status_at !== null ? { statusAt: Number(row.status_at) } : {}),
    ...(row.error_code !== null ? { errorCode: row.error_code } : {}),
    ...(row.error_title !== null ? { errorTitle: row.error_title } : {}),
    pricing: row.pricing,
    ...(row.notice !== null ? { notice: row.notice } : {}),
    ...(row.reason !== null ? { reason: row.reason } : {}),
    ...(row.remedy !== null ? { remedy: row.remedy } : {}),
    ...refusal,
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

function decodeConversationCursor(cursor: string): { ts: number; waId: string } {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  if (!Array.isArray(key) || key.length !== 2 || !Number.isSafeInteger(key[0]) || typeof key[1] !== 'string') {
    throw new InvalidMessageQueryError('cursor', 'cursor is not one this API returned');
  }
  return { ts: key[0] as number, waId: key[1] };
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
