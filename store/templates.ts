import type { TemplateRecord } from '../machines/templates';
import type { SqlPort } from './message-store';

/**
 * The message templates of each WABA, as Meta last reported them: from the
 * `message_template_status_update` webhook and from the Graph API's template list. A report older
 * than the one kept (a redelivery, a late webhook) changes nothing.
 */
export interface MessageTemplates {
  recordTemplate(template: TemplateRecord): Promise<void>;
  listTemplates(wabaId: string, query?: { status?: string; name?: string }): Promise<TemplateRecord[]>;
  getTemplate(wabaId: string, name: string, language: string): Promise<TemplateRecord | undefined>;
}

export const TEMPLATES_SCHEMA = `
CREATE TABLE IF NOT EXISTS message_templates (
  waba_id text NOT NULL,
  name text NOT NULL,
  language text NOT NULL,
  template_id text,
  status text NOT NULL,
  category text,
  reason text,
  reported_at bigint NOT NULL,
  PRIMARY KEY (waba_id, name, language)
);
`;

interface TemplateRow {
  waba_id: string;
  name: string;
  language: string;
  template_id: string | null;
  status: string;
  category: string | null;
  reason: string | null;
  reported_at: string | number;
}

const toRecord = (row: TemplateRow): TemplateRecord => ({
  wabaId: row.waba_id,
  name: row.name,
  language: row.language,
  ...(row.template_id !== null ? { templateId: row.template_id } : {}),
  status: row.status,
  ...(row.category !== null ? { category: row.category } : {}),
  ...(row.reason !== null ? { reason: row.reason } : {}),
  reportedAt: Number(row.reported_at),
});

export function messageTemplates(db: SqlPort): MessageTemplates {
  return {
    async recordTemplate(t) {
      // A field the newer report leaves out (the webhook names no category) keeps what was known.
      await db.query(
        `INSERT INTO message_templates (waba_id, name, language, template_id, status, category, reason, reported_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (waba_id, name, language) DO UPDATE SET
           template_id = COALESCE(EXCLUDED.template_id, message_templates.template_id),
           status = EXCLUDED.status,
           category = COALESCE(EXCLUDED.category, message_templates.category),
           reason = EXCLUDED.reason,
           reported_at = EXCLUDED.reported_at
         WHERE message_templates.reported_at <= EXCLUDED.reported_at`,
        [t.wabaId, t.name, t.language, t.templateId ?? null, t.status, t.category ?? null, t.reason ?? null, t.reportedAt],
      );
    },

    async listTemplates(wabaId, { status, name } = {}) {
      const { rows } = await db.query<TemplateRow>(
        `SELECT * FROM message_templates
         WHERE waba_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR name = $3)
         ORDER BY name, language`,
        [wabaId, status ?? null, name ?? null],
      );
      return rows.map(toRecord);
    },

    async getTemplate(wabaId, name, language) {
      const { rows } = await db.query<TemplateRow>(
        'SELECT * FROM message_templates WHERE waba_id = $1 AND name = $2 AND language = $3',
        [wabaId, name, language],
      );
      return rows[0] ? toRecord(rows[0]) : undefined;
    },
  };
}
