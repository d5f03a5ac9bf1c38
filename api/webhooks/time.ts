/**
 * Meta's times, read leniently (docs/meta.md#times-in-webhooks). The conversation never takes one
 * as later than when its workflow received the event (machines/conversation/records.ts): the
 * workflow's clock is the one its windows run on.
 */

/** Above this a Unix time is in milliseconds (in seconds it would be after the year 5000). */
const MILLISECONDS_ABOVE = 1e11;

/**
 * Unix seconds from a timestamp as Meta writes it (a string of digits; leniently a number, or
 * milliseconds); undefined when it names no time (empty, not a number, zero or negative).
 */
export function unixSeconds(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'number' ? value : value.trim() === '' ? NaN : Number(value.trim());
  if (!Number.isFinite(n) || n <= 0) return undefined;
  return Math.floor(n > MILLISECONDS_ABOVE ? n / 1000 : n);
}

/** An event's time (epoch ms, whole seconds as Meta's are): Meta's, or when it was received if it has none. */
export function eventTimeMs(seconds: number | undefined, receivedAt: number): number {
  return (seconds ?? Math.floor(receivedAt / 1000)) * 1000;
}
