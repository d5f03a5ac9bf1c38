/** The quarantine's requests and answers (GET /ops/quarantine, one entry, POST replay). */
import { z } from 'zod';

const entryId = z.string().regex(/^\d{1,18}$/, 'must be a quarantine entry id');

export const quarantineQuerySchema = z
  .object({
    classification: z
      .string()
      .regex(/^[\x21-\x7e]{1,200}$/, 'must be a classification or its prefix, e.g. no_workflow:')
      .optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: entryId.optional().describe('nextCursor of the previous page'),
  })
  .strict();

export const quarantineParamsSchema = z.object({ id: entryId }).strict();

export const replaySchema = z
  .object({ ids: z.array(entryId).min(1).max(100).describe('quarantine entries whose deliveries are routed again') })
  .strict();

export const quarantineEntrySchema = z.strictObject({
  id: z.string(),
  receivedAt: z.string().describe('when Meta delivered it (ISO 8601)'),
  classifications: z.array(z.string()).describe('why each part was not attached, e.g. no_workflow:<id>, messages:nul_character'),
  deliveryId: z.string().optional().describe('the inbox delivery holding its bytes; absent for entries kept before the inbox'),
  replayedAt: z.string().optional().describe('when it was last replayed'),
});

export const quarantineListSchema = z.strictObject({
  entries: z.array(quarantineEntrySchema),
  nextCursor: z.string().optional().describe('absent on the last page'),
});

export const quarantineInspectionSchema = quarantineEntrySchema.extend({
  body: z.unknown().describe('the delivery as JSON; { invalidUtf8, base64 } for bytes that are not JSON'),
  bytes: z.int().optional().describe('the size of the delivery as received'),
});

export const replayAnswerSchema = z.strictObject({
  replayed: z.array(z.strictObject({ id: z.string(), queued: z.int().describe('items queued again or for the first time') })),
  notReplayable: z.array(z.string()).describe('ids with no delivery bytes (unknown, or kept before the inbox)'),
});

export type QuarantineList = z.infer<typeof quarantineListSchema>;
export type QuarantineInspection = z.infer<typeof quarantineInspectionSchema>;
export type ReplayAnswer = z.infer<typeof replayAnswerSchema>;
