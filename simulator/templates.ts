/**
 * Message templates of each WABA, as Meta keeps them (docs/meta.md#message-templates): the Graph
 * API's `GET /<WABA_ID>/message_templates`, the `message_template_status_update` webhook when a
 * status changes, and Meta's refusal of a send whose template it would not send. `/_sim` controls
 * play Meta's review: create a template or change its status.
 */
import type { Request, RequestHandler, Router } from 'express';
import { z } from 'zod';
import { MetaError, type SimNumber, type World } from './world';

/** Meta's template statuses and the code a send of a template in that status is refused with. */
const REFUSED_STATUSES: Record<string, { code: number; title: string }> = {
  PENDING: { code: 132001, title: 'Template name does not exist in the translation' },
  IN_APPEAL: { code: 132001, title: 'Template name does not exist in the translation' },
  REJECTED: { code: 132001, title: 'Template name does not exist in the translation' },
  PENDING_DELETION: { code: 132001, title: 'Template name does not exist in the translation' },
  DELETED: { code: 132001, title: 'Template name does not exist in the translation' },
  ARCHIVED: { code: 132001, title: 'Template name does not exist in the translation' },
  PAUSED: { code: 132015, title: 'Template is Paused' },
  DISABLED: { code: 132016, title: 'Template is Disabled' },
};
const STATUSES = ['APPROVED', 'REINSTATED', 'FLAGGED', ...Object.keys(REFUSED_STATUSES)] as [string, ...string[]];

export interface SimTemplate {
  id: string;
  name: string;
  language: string;
  category: 'MARKETING' | 'UTILITY' | 'AUTHENTICATION';
  status: string;
  /** `NONE` unless rejected or paused (`INVALID_FORMAT`, `ABUSIVE_CONTENT`, ...). */
  rejected_reason: string;
}

/** Templates per WABA. A template the WABA never created is sent as Meta's sandbox would: priced as utility. */
export class TemplateCatalogue {
  private readonly byWaba = new Map<string, Map<string, SimTemplate>>();

  list(wabaId: string): SimTemplate[] {
    return [...(this.byWaba.get(wabaId)?.values() ?? [])].sort((a, b) => a.id.localeCompare(b.id));
  }

  get(wabaId: string, name: string, language: string): SimTemplate | undefined {
    return this.byWaba.get(wabaId)?.get(`${name}:${language}`);
  }

  put(wabaId: string, template: SimTemplate): SimTemplate {
    let templates = this.byWaba.get(wabaId);
    if (!templates) this.byWaba.set(wabaId, (templates = new Map()));
    templates.set(`${template.name}:${template.language}`, template);
    return template;
  }

  /** Meta's refusal of a send of this template now, if any. */
  refusal(wabaId: string, name: string, language: string): MetaError | undefined {
    const status = this.get(wabaId, name, language)?.status;
    const refused = status ? REFUSED_STATUSES[status] : undefined;
    return refused
      ? new MetaError(400, refused.code, refused.title, `The template ${name} (${language}) is ${status}.`)
      : undefined;
  }
}

export interface TemplatesContext {
  world: World;
  catalogue: TemplateCatalogue;
  /** The WABA the request's access token is for (190 otherwise). */
  bearer(req: Request): string;
  faulty(endpoint: string): RequestHandler;
  numberParam(req: Request): SimNumber;
  body<S extends z.ZodType>(schema: S, req: Request): z.infer<S>;
  /** Sends a signed webhook for the WABA, as Meta would. */
  wabaWebhook(wabaId: string, field: string, value: unknown): Promise<void>;
}

const PAGE = 25;

export function registerTemplates(graph: Router, control: Router, ctx: TemplatesContext): void {
  const { catalogue } = ctx;

  // Meta's list: `data` and cursor paging, `limit` at most 100, `status` and `name` filters.
  graph.get('/:wabaId/message_templates', ctx.faulty('waba/message_templates'), (req, res) => {
    const wabaId = ctx.bearer(req);
    if (req.params.wabaId !== wabaId) throw new MetaError(403, 200, 'Permissions error');
    const q = req.query as Record<string, string | undefined>;
    const limit = Math.min(Math.max(Number(q.limit) || PAGE, 1), 100);
    const from = q.after ? Number(Buffer.from(q.after, 'base64url').toString()) || 0 : 0;
    const all = catalogue
      .list(wabaId)
      .filter((t) => (!q.status || t.status === q.status) && (!q.name || t.name.includes(q.name)));
    const data = all.slice(from, from + limit);
    const cursor = (i: number) => Buffer.from(String(i)).toString('base64url');
    const more = from + limit < all.length;
    res.json({
      data,
      paging: {
        cursors: { before: cursor(from), after: cursor(from + data.length) },
        ...(more ? { next: `${req.baseUrl}${req.path}?limit=${limit}&after=${cursor(from + data.length)}` } : {}),
      },
    });
  });

  const templateControl = z
    .object({
      language: z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/),
      category: z.enum(['MARKETING', 'UTILITY', 'AUTHENTICATION']).optional(),
      status: z.enum(STATUSES).default('APPROVED'),
      reason: z.string().min(1).optional(),
    })
    .strict();

  /** Creates the template or changes its status (Meta's review), and sends Meta's webhook for it. */
  control.put('/numbers/:phoneNumber/templates/:name', async (req, res) => {
    const n = ctx.numberParam(req);
    const name = req.params.name as string;
    const { language, category, status, reason } = ctx.body(templateControl, req);
    const known = catalogue.get(n.wabaId, name, language);
    const template = catalogue.put(n.wabaId, {
      id: known?.id ?? ctx.world.id(),
      name,
      language,
      category: category ?? known?.category ?? 'UTILITY',
      status,
      rejected_reason: reason ?? 'NONE',
    });
    await ctx.wabaWebhook(n.wabaId, 'message_template_status_update', {
      event: status,
      // Meta sends the id as a number in this webhook.
      message_template_id: Number(template.id),
      message_template_name: name,
      message_template_language: language,
      reason: reason ?? 'NONE',
    });
    res.json(template);
  });

  control.get('/numbers/:phoneNumber/templates', (req, res) => res.json(catalogue.list(ctx.numberParam(req).wabaId)));
}
