/** The contacts resource's schemas: a number's contact book (the phone app's contacts and customers' profile names). */
import { z } from 'zod';
import { epochMs, metaIdSchema as id } from '../http/schemas';

export const contactParamsSchema = z.object({ phoneNumberId: id });

export const listContactsQuerySchema = z
  .object({
    search: z
      .string()
      .min(1)
      .max(100)
      .refine((s) => ![...s].some((c) => c < ' ' || c === '\u007f'), 'must be text without control characters')
      .optional()
      .describe('part of a name or of the phone number, case-insensitive'),
    removed: z
      .enum(['exclude', 'include', 'only'])
      .default('exclude')
      .describe('contacts removed in the phone app: left out (default), included, or only they'),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z
      .string()
      .regex(/^(\d{1,20}|user:[A-Za-z0-9._-]{1,120})$/, 'must be a nextCursor from an earlier page')
      .optional(),
  })
  .strict();

export const contactSchema = z.strictObject({
  phoneNumber: z.string().optional().describe('digits only; absent for a customer known only by user id'),
  userId: z.string().optional().describe("Meta's business-scoped user id"),
  fullName: z.string().optional().describe('as saved in the phone app'),
  firstName: z.string().optional(),
  profileName: z.string().optional().describe('the name the customer shows on WhatsApp, from their messages'),
  inApp: z.boolean().describe('in the phone app’s contacts now'),
  removedAt: epochMs.optional().describe('when it was removed in the phone app'),
  updatedAt: epochMs,
});

export const contactPageSchema = z.strictObject({
  contacts: z.array(contactSchema),
  nextCursor: z.string().optional().describe('pass as `cursor` for the next page'),
});

export type ContactPageView = z.infer<typeof contactPageSchema>;
