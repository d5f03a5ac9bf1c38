/** The templates resource's schemas: a number's message templates as Meta last reported them. */
import { z } from 'zod';
import { TEMPLATE_STATUS_NAMES } from '../../machines/templates';
import { epochMs, metaIdSchema as id } from '../http/schemas';

export const numberParamsSchema = z.object({ phoneNumberId: id });

export const listTemplatesQuerySchema = z
  .object({
    status: z.enum(TEMPLATE_STATUS_NAMES).optional().describe('only templates in this status'),
    name: z
      .string()
      .regex(/^[a-z0-9_]{1,512}$/, 'must be a template name: lowercase letters, digits and _')
      .optional(),
  })
  .strict();

export const templateSchema = z.strictObject({
  name: z.string(),
  language: z.string().describe('as in a send, e.g. en_US'),
  templateId: z.string().optional(),
  status: z.string().describe(`Meta's status: ${TEMPLATE_STATUS_NAMES.join(', ')} (another is shown verbatim)`),
  sendable: z.boolean().describe('whether a send of it goes to Meta; false ones are refused 409 before they reach Meta'),
  category: z.string().optional().describe('MARKETING, UTILITY or AUTHENTICATION'),
  reason: z.string().optional().describe("Meta's reason for a rejection or pause, verbatim"),
  reportedAt: epochMs.describe('when Meta reported this status'),
});

export const templateListSchema = z.strictObject({
  phoneNumberId: z.string(),
  wabaId: z.string(),
  templates: z.array(templateSchema),
});

export const templateRefreshSchema = z.strictObject({
  phoneNumberId: z.string(),
  wabaId: z.string(),
  templates: z.int().min(0).describe('templates Meta listed'),
});

export type TemplateView = z.infer<typeof templateSchema>;
export type TemplateList = z.infer<typeof templateListSchema>;
export type TemplateRefresh = z.infer<typeof templateRefreshSchema>;
