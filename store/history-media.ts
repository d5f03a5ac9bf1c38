import type { SqlPort } from './message-store';

/**
 * The media of chat history. Meta sends a history message with media as a `media_placeholder`
 * without media ids, then (for the last 14 days only) a follow-up under the field `history` with
 * plain `messages[]` carrying the same message id and the media. The follow-up is attached to its
 * placeholder whichever arrives first: a follow-up for a placeholder not yet recorded is kept
 * here and applied when the placeholder is recorded. Attaching changes the message's type and
 * content only: history never opens a window nor counts as a live message.
 */
export interface HistoryMedia {
  phoneNumberId: string;
  /** The placeholder's message id (its wamid). */
  id: string;
  /** The media type Meta names (`image`, `video`, `audio`, `document`, `sticker`, ...). */
  type: string;
  /** The follow-up's content (the object under its type, and whatever else it carries). */
  content: Record<string, unknown>;
}

export interface HistorySummary {
  /** Messages stored from the history sync. */
  messages: number;
  /** History messages whose media are still placeholders. */
  mediaPlaceholders: number;
  /** History messages whose media follow-up has been attached. */
  mediaAttached: number;
}

export interface HistoryMediaStore {
  /** Attaches a follow-up's media to its placeholder, or keeps them until the placeholder is recorded. */
  attachHistoryMedia(media: HistoryMedia): Promise<void>;
  /** What the history sync has stored for a number. */
  historySummary(phoneNumberId: string): Promise<HistorySummary>;
}

/** The type of a history message whose media have not arrived (Meta's word). */
export const MEDIA_PLACEHOLDER = 'media_placeholder';

// Keyed by the id's hash: a message id longer than an index entry holds must not fail the delivery.
export const HISTORY_MEDIA_SCHEMA = `
CREATE TABLE IF NOT EXISTS pending_history_media (
  phone_number_id text NOT NULL,
  id_key text NOT NULL,
  id text NOT NULL,
  type text NOT NULL,
  content jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (phone_number_id, id_key)
);
ALTER TABLE messages ADD COLUMN IF NOT EXISTS media_attached_at timestamptz;`;

/**
 * Applies the media kept for history message `id` if it is now a recorded placeholder, and only
 * then forgets them, so a crash in between loses nothing. The original placeholder's other fields
 * (`history_context`) stay; its `media_placeholder` object gives way to the media.
 */
export async function applyPendingHistoryMedia(db: SqlPort, phoneNumberId: string, id: string): Promise<void> {
  await db.query(
    `UPDATE messages m SET type = p.type, content = (m.content - '${MEDIA_PLACEHOLDER}') || p.content, content_raw = NULL,
       media_attached_at = now()
     FROM pending_history_media p
     WHERE p.phone_number_id = $1 AND p.id_key = md5($2)
       AND m.phone_number_id = $1 AND m.id = $2 AND m.source = 'history' AND m.type = '${MEDIA_PLACEHOLDER}'`,
    [phoneNumberId, id],
  );
  await db.query(
    `DELETE FROM pending_history_media p
     WHERE p.phone_number_id = $1 AND p.id_key = md5($2) AND EXISTS (
       SELECT 1 FROM messages m WHERE m.phone_number_id = $1 AND m.id = $2 AND m.type <> '${MEDIA_PLACEHOLDER}')`,
    [phoneNumberId, id],
  );
}

export function historyMediaStore(db: SqlPort, storable: (content: Record<string, unknown>) => string): HistoryMediaStore {
  return {
    async attachHistoryMedia(media) {
      // Kept first, then applied: a placeholder recorded in between finds it either way.
      await db.query(
        `INSERT INTO pending_history_media (phone_number_id, id_key, id, type, content)
         VALUES ($1, md5($2), $2, $3, $4::jsonb)
         ON CONFLICT (phone_number_id, id_key) DO UPDATE SET type = EXCLUDED.type, content = EXCLUDED.content`,
        [media.phoneNumberId, media.id, media.type, storable(media.content)],
      );
      await applyPendingHistoryMedia(db, media.phoneNumberId, media.id);
    },

    async historySummary(phoneNumberId) {
      const { rows } = await db.query<{ messages: string; placeholders: string; attached: string }>(
        `SELECT count(*) AS messages,
                count(*) FILTER (WHERE type = '${MEDIA_PLACEHOLDER}') AS placeholders,
                count(*) FILTER (WHERE media_attached_at IS NOT NULL) AS attached
         FROM messages WHERE phone_number_id = $1 AND source = 'history'`,
        [phoneNumberId],
      );
      const row = rows[0]!;
      return { messages: Number(row.messages), mediaPlaceholders: Number(row.placeholders), mediaAttached: Number(row.attached) };
    },
  };
}
