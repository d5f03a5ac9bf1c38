import type { SqlPort } from './message-store';

/**
 * Each business number's customers, each one identity of phone number (wa_id), business-scoped
 * user id (BSUID), parent BSUID and username, whichever Meta gives; linked whenever one payload
 * carries more than one of them.
 *
 * A customer's key (the customer part of its conversation's id) is the first identifier it was
 * known by: its wa_id when the first payload had one, else its BSUID (else its parent BSUID). A key
 * never changes, and an identifier once linked keeps leading to its customer, so a customer who
 * adopts, changes or drops a username stays in one conversation, and a redelivery routes where the
 * delivery did. Two customers known apart and then linked by one payload become one: the one known
 * first keeps its key, and the other's identifiers lead to it from then on (its earlier messages
 * stay under its own key).
 *
 * Resolution runs in the database as one statement, serialised per business number, so two API
 * processes resolving the same new customer at once agree on its key.
 */
export interface CustomerIds {
  /** The phone number, digits only, when Meta shares it. */
  waId?: string;
  userId?: string;
  parentUserId?: string;
  username?: string;
}

export interface Customer extends CustomerIds {
  /** The customer part of the conversation's id. */
  key: string;
}

export interface CustomerDirectory {
  /**
   * The key of the customer these identifiers name (at least one of waId, userId, parentUserId),
   * linking them and recording the ones not known yet; `at` (epoch ms) orders username changes.
   */
  resolveCustomer(phoneNumberId: string, ids: CustomerIds, at: number): Promise<string>;
  /**
   * Meta's notice that the customer of `key` changed phone number or BSUID: the new identifiers lead
   * to that customer from now on (taken from any customer who had them) and are the ones a send
   * uses; the old ones still lead to it. A notice older than the identifier's record (a late redelivery) changes nothing.
   */
  recordIdentifierChange(phoneNumberId: string, key: string, changedTo: CustomerIds, at: number): Promise<void>;
  /** The customer a key or any identifier names, with everything known of it; undefined when none. */
  findCustomer(phoneNumberId: string, identifier: string): Promise<Customer | undefined>;
  /** The customers of these keys (those known). */
  customersByKeys(phoneNumberId: string, keys: string[]): Promise<Customer[]>;
}

/** Identifier kinds as stored, each shown as its field of CustomerIds. */
const FIELD_OF_KIND = { wa_id: 'waId', user_id: 'userId', parent_user_id: 'parentUserId' } as const;

// Created once with its backfill: conversations written before identities were kept are keyed by
// wa_id, so each of their wa_ids becomes a customer known from the start (first_seen_at 0).
export const CUSTOMERS_SCHEMA = `
DO $$ BEGIN
  IF to_regclass('customer_ids') IS NULL THEN
    CREATE TABLE customer_ids (
      phone_number_id text NOT NULL,
      kind text NOT NULL,
      value text NOT NULL,
      customer_key text NOT NULL,
      seen_at bigint NOT NULL,
      PRIMARY KEY (phone_number_id, kind, value)
    );
    CREATE INDEX customer_ids_key ON customer_ids (phone_number_id, customer_key);
    CREATE INDEX customer_ids_value ON customer_ids (phone_number_id, value);
    CREATE TABLE customers (
      phone_number_id text NOT NULL,
      customer_key text NOT NULL,
      first_seen_at bigint NOT NULL,
      username text,
      username_at bigint,
      merged_into text,
      PRIMARY KEY (phone_number_id, customer_key)
    );
    INSERT INTO customers (phone_number_id, customer_key, first_seen_at)
      SELECT DISTINCT phone_number_id, wa_id, 0 FROM messages WHERE wa_id ~ '^[0-9]+$';
    INSERT INTO customer_ids (phone_number_id, kind, value, customer_key, seen_at)
      SELECT phone_number_id, 'wa_id', customer_key, customer_key, 0 FROM customers;
  END IF;
END $$;
CREATE OR REPLACE FUNCTION coexist_resolve_customer(
  p_number text, p_wa_id text, p_user_id text, p_parent text, p_username text, p_at bigint
) RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
  found text[];
  winner text;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('coexist-customer:' || p_number));
  SELECT array_agg(DISTINCT customer_key) INTO found FROM customer_ids
   WHERE phone_number_id = p_number
     AND ((kind = 'wa_id' AND value = p_wa_id) OR (kind = 'user_id' AND value = p_user_id)
       OR (kind = 'parent_user_id' AND value = p_parent));
  IF found IS NULL THEN
    winner := COALESCE(p_wa_id, p_user_id, p_parent);
    INSERT INTO customers (phone_number_id, customer_key, first_seen_at) VALUES (p_number, winner, p_at)
      ON CONFLICT DO NOTHING;
  ELSE
    SELECT k INTO winner FROM unnest(found) AS k
      LEFT JOIN customers c ON c.phone_number_id = p_number AND c.customer_key = k
     ORDER BY c.first_seen_at NULLS FIRST, k LIMIT 1;
    IF cardinality(found) > 1 THEN
      UPDATE customer_ids SET customer_key = winner
       WHERE phone_number_id = p_number AND customer_key = ANY(found) AND customer_key <> winner;
      UPDATE customers SET merged_into = winner
       WHERE phone_number_id = p_number AND customer_key = ANY(found) AND customer_key <> winner;
    END IF;
  END IF;
  INSERT INTO customer_ids (phone_number_id, kind, value, customer_key, seen_at)
    SELECT p_number, x.kind, x.value, winner, p_at
      FROM (VALUES ('wa_id', p_wa_id), ('user_id', p_user_id), ('parent_user_id', p_parent)) AS x(kind, value)
     WHERE x.value IS NOT NULL
    ON CONFLICT DO NOTHING;
  IF p_username IS NOT NULL THEN
    UPDATE customers SET username = p_username, username_at = p_at
     WHERE phone_number_id = p_number AND customer_key = winner
       AND (username_at IS NULL OR username_at <= p_at) AND username IS DISTINCT FROM p_username;
  END IF;
  RETURN winner;
END $fn$;
`;

interface IdRow {
  customer_key: string;
  kind: keyof typeof FIELD_OF_KIND;
  value: string;
  username: string | null;
}

/** Rows of customer_ids (newest first) with their customer's username, as customers. */
function toCustomers(rows: IdRow[]): Customer[] {
  const byKey = new Map<string, Customer>();
  for (const row of rows) {
    let c = byKey.get(row.customer_key);
    if (!c) {
      byKey.set(row.customer_key, (c = { key: row.customer_key }));
      if (row.username !== null) c.username = row.username;
    }
    c[FIELD_OF_KIND[row.kind]] ??= row.value;
  }
  return [...byKey.values()];
}

/** The identifier rows (newest first) of the customers `keys` (an SQL expression) names, with their usernames. */
const selectIds = (keys: string) => `
SELECT i.customer_key, i.kind, i.value, c.username FROM customer_ids i
LEFT JOIN customers c ON c.phone_number_id = i.phone_number_id AND c.customer_key = i.customer_key
WHERE i.phone_number_id = $1 AND i.customer_key = ${keys}
ORDER BY i.seen_at DESC, i.value`;

export function customerDirectory(db: SqlPort): CustomerDirectory {
  const byKeys = async (phoneNumberId: string, keys: string[]) =>
    keys.length === 0 ? [] : toCustomers((await db.query<IdRow>(selectIds('ANY($2::text[])'), [phoneNumberId, keys])).rows);

  return {
    async resolveCustomer(phoneNumberId, { waId, userId, parentUserId, username }, at) {
      if (!waId && !userId && !parentUserId) throw new Error('a customer needs a wa_id, a user id or a parent user id');
      const { rows } = await db.query<{ key: string }>('SELECT coexist_resolve_customer($1, $2, $3, $4, $5, $6) AS key', [
        phoneNumberId,
        waId ?? null,
        userId ?? null,
        parentUserId ?? null,
        username ?? null,
        at,
      ]);
      return rows[0]!.key;
    },

    async recordIdentifierChange(phoneNumberId, key, { waId, userId, parentUserId }, at) {
      await db.query(
        `INSERT INTO customer_ids AS i (phone_number_id, kind, value, customer_key, seen_at)
         SELECT $1, x.kind, x.value, $2,
                -- newer than every identifier the customer has, so that sends take it even within one delivery
                GREATEST($6, (SELECT max(seen_at) + 1 FROM customer_ids WHERE phone_number_id = $1 AND customer_key = $2))
           FROM (VALUES ('wa_id', $3::text), ('user_id', $4::text), ('parent_user_id', $5::text)) AS x(kind, value)
          WHERE x.value IS NOT NULL
         ON CONFLICT (phone_number_id, kind, value) DO UPDATE SET customer_key = EXCLUDED.customer_key, seen_at = EXCLUDED.seen_at
          WHERE i.seen_at <= EXCLUDED.seen_at`,
        [phoneNumberId, key, waId ?? null, userId ?? null, parentUserId ?? null, at],
      );
    },

    // One statement: the sender asks it for every send.
    async findCustomer(phoneNumberId, identifier) {
      const { rows } = await db.query<IdRow>(
        `WITH found AS (
           SELECT customer_key FROM customer_ids WHERE phone_number_id = $1 AND value = $2
           UNION ALL
           SELECT COALESCE(merged_into, customer_key) FROM customers WHERE phone_number_id = $1 AND customer_key = $2
           LIMIT 1)
         ${selectIds('(SELECT customer_key FROM found)')}`,
        [phoneNumberId, identifier],
      );
      return toCustomers(rows)[0];
    },

    customersByKeys: byKeys,
  };
}
