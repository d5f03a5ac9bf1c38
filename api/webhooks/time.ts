/**
 * Meta's times, trusted only so far: read leniently (docs/meta.md#times-in-webhooks), and never
 * later than when coexist received the event, so that a clock far ahead (a device's, a sender's)
 * can neither hold a window open nor pin a message to the top of the newest-first list.
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

/**
 * An event's time (epoch ms, whole seconds as Meta's are): Meta's, unless it is missing or ahead of
 * the second in which the event was received.
 */
export function eventTimeMs(seconds: number | undefined, receivedAt: number): number {
  const received = Math.floor(receivedAt / 1000);
  return (seconds === undefined ? received : Math.min(seconds, received)) * 1000;
}

/** `entry[].time` (Unix seconds), never ahead of when the event was received; undefined when missing. */
export function entrySeconds(seconds: number | undefined, receivedAt: number): number | undefined {
  return seconds === undefined ? undefined : Math.min(seconds, Math.floor(receivedAt / 1000));
}
