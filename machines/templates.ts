/**
 * Message templates as Meta reports them (docs/meta.md#message-templates): the statuses of a
 * template and which of them Meta sends, declared once. The webhook schema, the store, the send
 * check and the simulator read them from here.
 */

/**
 * A template's status, as `message_template_status_update` names it in `event` and the Graph API
 * in `status`; for each, whether Meta sends the template, and the code it refuses it with when not.
 */
export const TEMPLATE_STATUSES = {
  APPROVED: { sendable: true },
  /** Back after an appeal or a pause: approved again. */
  REINSTATED: { sendable: true },
  /** Low quality: still sent; disabled if it stays low. */
  FLAGGED: { sendable: true },
  PENDING: { sendable: false, metaCode: 132001 },
  IN_APPEAL: { sendable: false, metaCode: 132001 },
  REJECTED: { sendable: false, metaCode: 132001 },
  PAUSED: { sendable: false, metaCode: 132015 },
  DISABLED: { sendable: false, metaCode: 132016 },
  PENDING_DELETION: { sendable: false, metaCode: 132001 },
  DELETED: { sendable: false, metaCode: 132001 },
  ARCHIVED: { sendable: false, metaCode: 132001 },
} as const satisfies Record<string, { sendable: true } | { sendable: false; metaCode: number }>;

export type TemplateStatus = keyof typeof TEMPLATE_STATUSES;

export const TEMPLATE_STATUS_NAMES = Object.keys(TEMPLATE_STATUSES) as [TemplateStatus, ...TemplateStatus[]];

export function isTemplateStatus(value: string): value is TemplateStatus {
  return Object.hasOwn(TEMPLATE_STATUSES, value);
}

/** Meta's template categories (upper case at Meta; the send API takes them in lower case). */
export const TEMPLATE_CATEGORIES = ['MARKETING', 'UTILITY', 'AUTHENTICATION'] as const;
export type MetaTemplateCategory = (typeof TEMPLATE_CATEGORIES)[number];

/** Meta writes a language as `en_US` in sends and sometimes `en-US` in webhooks: one spelling. */
export function templateLanguage(code: string): string {
  return code.replace('-', '_');
}

/** What coexist knows of one template of a WABA. */
export interface TemplateRecord {
  wabaId: string;
  name: string;
  language: string;
  /** Meta's template id, when the source gave it. */
  templateId?: string;
  /** Meta's status; a status Meta added after this list is kept verbatim and never refused. */
  status: string;
  category?: string;
  /** Meta's reason for a rejection or pause (`INVALID_FORMAT`, `NONE`, ...), verbatim. */
  reason?: string;
  /** When Meta reported it (epoch ms): an older report never replaces a newer one. */
  reportedAt: number;
}

/** Why Meta would refuse this template now, or undefined when it sends it (or its status is unknown to us). */
export function templateRefusal(template: TemplateRecord): { status: TemplateStatus; metaCode: number } | undefined {
  if (!isTemplateStatus(template.status)) return undefined;
  const status = TEMPLATE_STATUSES[template.status];
  return status.sendable ? undefined : { status: template.status, metaCode: status.metaCode };
}
