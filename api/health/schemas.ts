import { z } from 'zod';

export const healthySchema = z.strictObject({ status: z.literal('ok'), temporal: z.literal('serving') });
export const degradedSchema = z.strictObject({ status: z.literal('degraded'), temporal: z.literal('unreachable') });

export type Healthy = z.infer<typeof healthySchema>;
export type Degraded = z.infer<typeof degradedSchema>;
