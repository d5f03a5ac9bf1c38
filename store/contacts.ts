import type { SqlPort } from './message-store';

/**
 * Each business number's contact book: the phone app's contacts from `smb_app_state_sync` (added,
 * edited, removed; a removal is kept as such, with the names known before it) and the profile names
 * customers show on their messages. Each source keeps its own time, so a late or redelivered change
 * never replaces a newer one.
 */
export interface ContactChange {
  phoneNumberId: string;
  /** The contact's phone number, digits only; absent for a customer known only by user id. */
  phoneNumber?: string;
  /** Meta's business-scoped user id, when the payload carries one. */
  userId?: string;
  /** `add` covers edits too (Meta sends an edit as another add); `profile` is a name seen on a message. */
  action: 'add' | 'remove' | 'profile';
  fullName?: string;
  firstName?: string;
  profileName?: string;
  /** When Meta says it changed (epoch ms), never later than when it was received. */
  changedAt: number;
}

export interface Contact {
  phoneNumber?: string;
  userId?: string;
  fullName?: string;
  firstName?: string;
  profileName?: string;
  /** In the phone app's contacts now (added and not removed since). */
  inApp: boolean;
  removedAt?: number;
  /** The latest change from either source (epoch ms). */
  updatedAt: number;
}

export interface ContactQuery {
  phoneNumberId: string;
  /** Part of a name or of the phone number, case-insensitive. */
  search?: string;
  /** `exclude` (default): contacts removed in the app are left out; `only`: just those. */
  removed?: 'exclude' | 'include' | 'only';
  limit: number;
  cursor?: string;
}

export interface ContactPage {
  contacts: Contact[];
  nextCursor?: string;
}

export interface ContactBook {
  recordContact(change: ContactChange): Promise<void>;
  listContacts(query: ContactQuery): Promise<ContactPage>;
  /** How many contacts the phone app's sync has brought, and when the first arrived. */
  contactSyncSummary(phoneNumberId: string): Promise<{ contacts: number; firstAt?: number }>;
}

export const CONTACTS_SCHEMA = `
CREATE TABLE IF NOT EXISTS contacts (
  phone_number_id text NOT NULL,
  contact_key text NOT NULL,
  phone_number text,
  user_id text,
  full_name text,
  first_name text,
  profile_name text,
  in_app boolean NOT NULL DEFAULT false,
  removed_at bigint,
  app_changed_at bigint,
  app_first_at bigint,
  profile_changed_at bigint,
  PRIMARY KEY (phone_number_id, contact_key)
);
`;

interface ContactRow {
  contact_key: string;
  phone_number: string | null;
  user_id: string | null;
  full_name: string | null;
  first_name: string | null;
  profile_name: string | null;
  in_app: boolean;
  removed_at: string | number | null;
  app_changed_at: string | number | null;
  profile_changed_at: string | number | null;
}

/** One row per phone number, or per user id when the number is hidden. */
const contactKey = (c: Pick<ContactChange, 'phoneNumber' | 'userId'>) =>
  c.phoneNumber ? c.phoneNumber : c.userId ? `user:${c.userId}` : undefined;

const num = (v: string | number | null) => (v === null ? undefined : Number(v));

function toContact(row: ContactRow): Contact {
  const removedAt = num(row.removed_at);
  return {
    ...(row.phone_number !== null ? { phoneNumber: row.phone_number } : {}),
    ...(row.user_id !== null ? { userId: row.user_id } : {}),
    ...(row.full_name !== null ? { fullName: row.full_name } : {}),
    ...(row.first_name !== null ? { firstName: row.first_name } : {}),
    ...(row.profile_name !== null ? { profileName: row.profile_name } : {}),
    inApp: row.in_app,
    ...(removedAt !== undefined ? { removedAt } : {}),
    updatedAt: Math.max(num(row.app_changed_at) ?? 0, num(row.profile_changed_at) ?? 0),
  };
}

// Each statement changes the row only when its change is at least as new as the source's last one.
// Parameters: $1 phone_number_id, $2 key, $3 phone number, $4 user id, then the action's own, then its time.
const UPSERT: Record<ContactChange['action'], string> = {
  add: `
    INSERT INTO contacts (phone_number_id, contact_key, phone_number, user_id, full_name, first_name, in_app, app_changed_at, app_first_at)
    VALUES ($1, $2, $3, $4, $5, $6, true, $7, $7)
    ON CONFLICT (phone_number_id, contact_key) DO UPDATE SET
      phone_number = COALESCE(EXCLUDED.phone_number, contacts.phone_number),
      user_id = COALESCE(EXCLUDED.user_id, contacts.user_id),
      full_name = COALESCE(EXCLUDED.full_name, contacts.full_name),
      first_name = COALESCE(EXCLUDED.first_name, contacts.first_name),
      in_app = true, removed_at = NULL, app_changed_at = EXCLUDED.app_changed_at,
      app_first_at = COALESCE(contacts.app_first_at, EXCLUDED.app_first_at)
    WHERE contacts.app_changed_at IS NULL OR contacts.app_changed_at <= EXCLUDED.app_changed_at`,
  remove: `
    INSERT INTO contacts (phone_number_id, contact_key, phone_number, user_id, in_app, removed_at, app_changed_at, app_first_at)
    VALUES ($1, $2, $3, $4, false, $5, $5, $5)
    ON CONFLICT (phone_number_id, contact_key) DO UPDATE SET
      in_app = false, removed_at = EXCLUDED.removed_at, app_changed_at = EXCLUDED.app_changed_at,
      app_first_at = COALESCE(contacts.app_first_at, EXCLUDED.app_first_at)
    WHERE contacts.app_changed_at IS NULL OR contacts.app_changed_at <= EXCLUDED.app_changed_at`,
  profile: `
    INSERT INTO contacts (phone_number_id, contact_key, phone_number, user_id, profile_name, profile_changed_at)
    VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (phone_number_id, contact_key) DO UPDATE SET
      phone_number = COALESCE(EXCLUDED.phone_number, contacts.phone_number),
      user_id = COALESCE(EXCLUDED.user_id, contacts.user_id),
      profile_name = EXCLUDED.profile_name, profile_changed_at = EXCLUDED.profile_changed_at
    WHERE contacts.profile_changed_at IS NULL OR contacts.profile_changed_at <= EXCLUDED.profile_changed_at`,
};

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export function contactBook(db: SqlPort): ContactBook {
  return {
    async recordContact(change) {
      const key = contactKey(change);
      if (!key) throw new Error('a contact needs a phone number or a user id');
      const who = [change.phoneNumberId, key, change.phoneNumber ?? null, change.userId ?? null];
      const what = {
        add: [change.fullName ?? null, change.firstName ?? null],
        remove: [],
        profile: [change.profileName ?? null],
      }[change.action];
      await db.query(UPSERT[change.action], [...who, ...what, change.changedAt]);
    },

    async listContacts({ phoneNumberId, search, removed = 'exclude', limit, cursor }) {
      const removedFilter = {
        exclude: '(in_app OR removed_at IS NULL)',
        include: 'true',
        only: 'removed_at IS NOT NULL',
      }[removed];
      const { rows } = await db.query<ContactRow>(
        `SELECT * FROM contacts
         WHERE phone_number_id = $1 AND ${removedFilter}
           AND ($2::text IS NULL OR full_name ILIKE $2 OR first_name ILIKE $2 OR profile_name ILIKE $2 OR phone_number LIKE $2)
           AND ($3::text IS NULL OR contact_key > $3)
         ORDER BY contact_key LIMIT $4`,
        [phoneNumberId, search ? `%${escapeLike(search)}%` : null, cursor ?? null, limit + 1],
      );
      const page = rows.slice(0, limit);
      return {
        contacts: page.map(toContact),
        ...(rows.length > limit ? { nextCursor: page.at(-1)!.contact_key } : {}),
      };
    },

    async contactSyncSummary(phoneNumberId) {
      const { rows } = await db.query<{ contacts: string | number; first_at: string | number | null }>(
        `SELECT count(*) AS contacts, min(app_first_at) AS first_at FROM contacts
         WHERE phone_number_id = $1 AND app_first_at IS NOT NULL`,
        [phoneNumberId],
      );
      const firstAt = num(rows[0]?.first_at ?? null);
      return { contacts: Number(rows[0]?.contacts ?? 0), ...(firstAt !== undefined ? { firstAt } : {}) };
    },
  };
}
