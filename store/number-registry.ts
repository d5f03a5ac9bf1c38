import type { NumberRegistryEntry } from '../machines/onboarding';
import type { SqlPort } from './message-store';

/**
 * The number registry: one row a phone_number_id with the onboarding that holds it, its WABA,
 * its sending state as the status card shows it, and its sealed business token. The onboarding
 * writes it (an activity run whenever one of these changes); webhooks are routed by it (a number's
 * changes must come under its WABA), and the sender and the conversations read it instead of
 * asking Temporal's visibility and the onboarding's state query for every send.
 */
export interface NumberEntry extends NumberRegistryEntry {
  /** The onboarding's clock when it wrote this (epoch ms): an older write never replaces a newer one. */
  updatedAt: number;
}

export interface NumberRegistry {
  /** Writes the number's entry; `released` when it can send now and could not before (or was unknown). */
  record(entry: NumberEntry): Promise<{ released: boolean }>;
  get(phoneNumberId: string): Promise<NumberEntry | undefined>;
  /** The WABA of each of these numbers the registry holds (`null`: held, WABA not known yet); a number it does not hold is absent. */
  wabasOf(phoneNumberIds: string[]): Promise<Map<string, string | null>>;
}

export const NUMBER_REGISTRY_SCHEMA = `
CREATE TABLE IF NOT EXISTS numbers (
  phone_number_id text PRIMARY KEY,
  onboarding_workflow_id text NOT NULL,
  can_send boolean NOT NULL,
  reason text,
  remedy text,
  sealed_token text,
  updated_at bigint NOT NULL
);
ALTER TABLE numbers ADD COLUMN IF NOT EXISTS waba_id text;
ALTER TABLE numbers ADD COLUMN IF NOT EXISTS display_phone_number text;`;

interface NumberRow {
  phone_number_id: string;
  onboarding_workflow_id: string;
  waba_id: string | null;
  display_phone_number: string | null;
  can_send: boolean;
  reason: string | null;
  remedy: string | null;
  sealed_token: string | null;
  updated_at: string | number;
}

export function createNumberRegistry(db: SqlPort): NumberRegistry {
  return {
    async record(entry) {
      // A sender's provisional stop (a refusal the onboarding had not yet taken) ends with the
      // onboarding's next word on the number.
      const { rows } = await db.query<{ was: boolean | null; now: boolean | null }>(
        `WITH previous AS (SELECT can_send FROM numbers WHERE phone_number_id = $1),
         upserted AS (
           INSERT INTO numbers (phone_number_id, onboarding_workflow_id, can_send, reason, remedy, sealed_token, updated_at,
                                waba_id, display_phone_number)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (phone_number_id) DO UPDATE SET
             onboarding_workflow_id = EXCLUDED.onboarding_workflow_id, can_send = EXCLUDED.can_send,
             reason = EXCLUDED.reason, remedy = EXCLUDED.remedy, sealed_token = EXCLUDED.sealed_token,
             updated_at = EXCLUDED.updated_at,
             waba_id = COALESCE(EXCLUDED.waba_id, numbers.waba_id),
             display_phone_number = COALESCE(EXCLUDED.display_phone_number, numbers.display_phone_number)
           WHERE numbers.updated_at <= EXCLUDED.updated_at
           RETURNING can_send),
         cleared AS (
           UPDATE send_queues SET stopped_code = NULL, stopped_at = NULL
           WHERE phone_number_id = $1 AND EXISTS (SELECT 1 FROM upserted)
           RETURNING 1)
         SELECT (SELECT can_send FROM previous) AS was, (SELECT can_send FROM upserted) AS now,
                (SELECT count(*) FROM cleared) AS cleared`,
        [
          entry.phoneNumberId,
          entry.onboardingWorkflowId,
          entry.canSend,
          entry.reason ?? null,
          entry.remedy ?? null,
          entry.sealedToken ?? null,
          entry.updatedAt,
          entry.wabaId ?? null,
          entry.displayPhoneNumber ?? null,
        ],
      );
      const { was, now } = rows[0] ?? { was: null, now: null };
      return { released: now === true && was !== true };
    },

    async get(phoneNumberId) {
      const { rows } = await db.query<NumberRow>('SELECT * FROM numbers WHERE phone_number_id = $1', [phoneNumberId]);
      const row = rows[0];
      if (!row) return undefined;
      return {
        phoneNumberId: row.phone_number_id,
        onboardingWorkflowId: row.onboarding_workflow_id,
        ...(row.waba_id !== null ? { wabaId: row.waba_id } : {}),
        ...(row.display_phone_number !== null ? { displayPhoneNumber: row.display_phone_number } : {}),
        canSend: row.can_send,
        ...(row.reason !== null ? { reason: row.reason } : {}),
        ...(row.remedy !== null ? { remedy: row.remedy } : {}),
        ...(row.sealed_token !== null ? { sealedToken: row.sealed_token } : {}),
        updatedAt: Number(row.updated_at),
      };
    },

    async wabasOf(phoneNumberIds) {
      if (phoneNumberIds.length === 0) return new Map();
      const { rows } = await db.query<{ phone_number_id: string; waba_id: string | null }>(
        'SELECT phone_number_id, waba_id FROM numbers WHERE phone_number_id = ANY($1::text[])',
        [phoneNumberIds],
      );
      return new Map(rows.map((r) => [r.phone_number_id, r.waba_id]));
    },
  };
}
