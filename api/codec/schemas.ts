/** Temporal's codec server protocol: `{ payloads: [{ metadata: { key: base64 }, data: base64 }] }` (protobuf JSON). */
import { z } from 'zod';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** What the API takes: bounded, as anyone holding an ops token may send it. */
const base64In = z.string().max(4_000_000).regex(BASE64, 'must be base64');
export const codecRequestSchema = z
  .object({
    payloads: z
      .array(z.object({ metadata: z.record(z.string().max(256), base64In).optional(), data: base64In.optional() }).strict())
      .max(1000),
  })
  .strict();

/** What the API answers. */
const base64 = z.string().regex(BASE64, 'must be base64');
export const codecPayloadsSchema = z.strictObject({
  payloads: z.array(z.strictObject({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() })),
});

export type CodecRequest = z.infer<typeof codecRequestSchema>;
export type CodecPayloads = z.infer<typeof codecPayloadsSchema>;
