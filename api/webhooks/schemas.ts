/**
 * Meta's webhook payloads (meta-reference §3), parsed by zod. Only the fields routed here are
 * required; everything else is kept (`loose`) and unknown fields are classified, never refused.
 */
import { z } from 'zod';

export const changeSchema = z.object({ field: z.string(), value: z.unknown() }).loose();

export const envelopeSchema = z.object({
  object: z.string(),
  entry: z.array(z.object({ id: z.string(), time: z.number().optional(), changes: z.array(changeSchema).default([]) }).loose()),
});

const metadataSchema = z.object({ display_phone_number: z.string(), phone_number_id: z.string() }).loose();

export const accountUpdateSchema = z
  .object({
    event: z.string(),
    phone_number: z.string().optional(),
    disconnection_info: z.object({ reason: z.string().optional(), initiated_by: z.string().optional() }).loose().optional(),
    waba_info: z.object({ waba_id: z.string().optional() }).loose().optional(),
  })
  .loose();

export const historySchema = z
  .object({
    metadata: metadataSchema,
    history: z.array(
      z
        .object({
          metadata: z.object({ phase: z.number().optional(), chunk_order: z.number().optional(), progress: z.number().optional() }).loose().optional(),
          errors: z.array(z.object({ code: z.number() }).loose()).optional(),
        })
        .loose(),
    ),
  })
  .loose();

export const qualityUpdateSchema = z
  .object({
    display_phone_number: z.string(),
    event: z.string().optional(),
    current_limit: z.string().optional(),
    max_daily_conversations_per_business: z.string().optional(),
  })
  .loose();

export const nameUpdateSchema = z
  .object({ display_phone_number: z.string(), decision: z.string(), requested_verified_name: z.string().optional() })
  .loose();

export type Envelope = z.infer<typeof envelopeSchema>;

/** History sync declined by the business (`history[].errors[].code`). */
export const HISTORY_DECLINED = 2593109;
