/** Small pure helpers shared by the machines and the durable interpreter. */

/** The object without its undefined fields: records, context and options stay plain JSON. */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Epoch milliseconds as an ISO time. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
