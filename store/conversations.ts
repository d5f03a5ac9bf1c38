import type { ConversationRow, StoredConversation } from '../machines/conversation/stored';
import type { SqlPort } from './message-store';

/**
 * One row a conversation (machines/conversation/stored.ts), so that a send is decided from the
 * store without a workflow task per message. Two writers, each for its own columns:
 *
 * - every message the store records counts itself in (a trigger on `messages`): counts by source,
 *   the customer's newest message (Meta's time) and when the newest was received;
 * - the conversation workflow writes its row (`state`) (inbox, free entry point, how the customer service
 *   window last opened or closed) whenever that changes, newest write winning.
 *
 * A store created before this table fills it from its messages once.
 */
export interface ConversationRows {
  /** Writes the workflow's part of the row; an older write (`at`, the workflow's clock) changes nothing. */
  recordConversation(row: ConversationRow, at: number): Promise<void>;
  /** The conversation as the store knows it; counts of zero and no row when it knows nothing. */
  getConversation(phoneNumberId: string, waId: string): Promise<StoredConversation>;
}

const COUNTS = `customer integer NOT NULL DEFAULT 0,
    platform integer NOT NULL DEFAULT 0,
    echoes integer NOT NULL DEFAULT 0,
    history integer NOT NULL DEFAULT 0,
    last_customer_ts bigint,
    last_customer_received_at bigint`;

/** A message's contribution to its conversation's counts (`m` the message row). */
const COUNTED = (m: string) => `(${m}.source = 'customer')::int, (${m}.source = 'platform')::int,
  (${m}.source = 'app_echo')::int, (${m}.source = 'history')::int`;

export const CONVERSATIONS_SCHEMA = `
DO $$ BEGIN
  IF to_regclass('conversations') IS NULL THEN
    CREATE TABLE conversations (
      phone_number_id text NOT NULL,
      wa_id text NOT NULL,
      ${COUNTS},
      state jsonb,
      state_at bigint,
      PRIMARY KEY (phone_number_id, wa_id)
    );
    INSERT INTO conversations (phone_number_id, wa_id, customer, platform, echoes, history, last_customer_ts, last_customer_received_at)
    SELECT phone_number_id, wa_id, count(*) FILTER (WHERE source = 'customer'), count(*) FILTER (WHERE source = 'platform'),
      count(*) FILTER (WHERE source = 'app_echo'), count(*) FILTER (WHERE source = 'history'),
      max(ts) FILTER (WHERE source = 'customer'), max(status_at) FILTER (WHERE source = 'customer')
    FROM messages GROUP BY phone_number_id, wa_id;
  END IF;
END $$;
CREATE OR REPLACE FUNCTION conversations_count_message() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO conversations AS c (phone_number_id, wa_id, customer, platform, echoes, history, last_customer_ts, last_customer_received_at)
  VALUES (NEW.phone_number_id, NEW.wa_id, ${COUNTED('NEW')},
    CASE WHEN NEW.source = 'customer' THEN NEW.ts END, CASE WHEN NEW.source = 'customer' THEN NEW.status_at END)
  ON CONFLICT (phone_number_id, wa_id) DO UPDATE SET
    customer = c.customer + EXCLUDED.customer,
    platform = c.platform + EXCLUDED.platform,
    echoes = c.echoes + EXCLUDED.echoes,
    history = c.history + EXCLUDED.history,
    last_customer_ts = GREATEST(c.last_customer_ts, EXCLUDED.last_customer_ts),
    last_customer_received_at = GREATEST(c.last_customer_received_at, EXCLUDED.last_customer_received_at);
  RETURN NULL;
END $fn$;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'messages_count_conversation') THEN
    CREATE TRIGGER messages_count_conversation AFTER INSERT ON messages
      FOR EACH ROW EXECUTE FUNCTION conversations_count_message();
  END IF;
END $$;`;

export function conversationRows(db: SqlPort): ConversationRows {
  return {
    async recordConversation(row, at) {
      await db.query(
        `INSERT INTO conversations AS c (phone_number_id, wa_id, state, state_at) VALUES ($1, $2, $3::jsonb, $4)
         ON CONFLICT (phone_number_id, wa_id) DO UPDATE SET state = EXCLUDED.state, state_at = EXCLUDED.state_at
         WHERE c.state_at IS NULL OR c.state_at <= EXCLUDED.state_at`,
        [row.phoneNumberId, row.waId, row, at],
      );
    },

    async getConversation(phoneNumberId, waId) {
      const { rows } = await db.query<{
        customer: number;
        platform: number;
        echoes: number;
        history: number;
        last_customer_ts: string | number | null;
        last_customer_received_at: string | number | null;
        state: ConversationRow | null;
      }>(
        `SELECT customer, platform, echoes, history, last_customer_ts, last_customer_received_at, state
         FROM conversations WHERE phone_number_id = $1 AND wa_id = $2`,
        [phoneNumberId, waId],
      );
      const r = rows[0];
      if (!r) return { counts: { customer: 0, platform: 0, echoes: 0, history: 0 } };
      return {
        ...(r.state !== null ? { row: r.state } : {}),
        ...(r.last_customer_ts !== null ? { lastCustomerMessageAt: Number(r.last_customer_ts) } : {}),
        ...(r.last_customer_received_at !== null ? { lastCustomerReceivedAt: Number(r.last_customer_received_at) } : {}),
        counts: { customer: r.customer, platform: r.platform, echoes: r.echoes, history: r.history },
      };
    },
  };
}
