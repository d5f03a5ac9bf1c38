/**
 * The building blocks every resource's schemas share: the error envelope, times, Meta's ids, and
 * the parts of a machine workflow's view (api/machine-view.ts) that every view shows.
 */
import { z } from 'zod';

export const keysOf = <T extends object>(o: T) => Object.keys(o) as [keyof T & string, ...(keyof T & string)[]];

export const epochMs = z.int().min(0).describe('epoch ms');
export const isoTime = z.iso.datetime().describe('ISO 8601, UTC');

/** Meta's ids are positive decimal numbers (never 0, no leading zeros). */
export const metaIdSchema = z.string().regex(/^[1-9]\d{0,31}$/, 'must be a numeric Meta id');

export const errorSchema = z.strictObject({
  error: z.strictObject({
    code: z
      .string()
      .describe(
        'e.g. invalid_request, invalid_json, unauthorized, not_found, event_refused, or a refusal code of the machine such as customer_service_window_closed',
      ),
    message: z.string(),
    field: z.string().optional().describe('the part of the request at fault: body.…, params.…, query.…, headers.…'),
    hint: z.string().optional().describe('what the caller can do instead'),
    depth: z.int().optional().describe('send_queue_full: sends waiting in the number’s queue'),
    limit: z.int().optional().describe('send_queue_full: the most sends the number’s queue takes'),
  }),
});

export const machineStatusSchema = z.enum(['active', 'done', 'error', 'stopped']);

export const timelineEntrySchema = z.strictObject({
  at: isoTime.describe("the workflow clock's time when the event was processed"),
  from: z.string(),
  to: z.string(),
  event: z.string(),
  by: z.string().optional().describe('who sent it: backend, ops:<name>, …'),
});

export type ErrorBody = z.infer<typeof errorSchema>;
