/**
 * The contract between pure machines and the durable interpreter (workflows/interpreter.ts).
 *
 * - A named custom action `{ type: 'x', params }` runs as the activity `x(params)`.
 * - An invoked actor `invoke: { src: 'y', id, input }` runs as the activity `y(input)`; its result
 *   comes back as `xstate.done.actor.<id>` with `output`, its failure as
 *   `xstate.error.actor.<id>` with `error: InvocationError`.
 * - `after` and delayed `raise` become durable timers; leaving the state cancels them.
 *
 * Machines never read the clock: events that need a time carry it (`at`, epoch milliseconds).
 */

/** What a failed activity looks like to the machine (serialisable, no stack). */
export interface InvocationError {
  message: string;
  /** ApplicationFailure type, e.g. 'MetaApiError'; undefined for non-application failures. */
  type?: string;
  nonRetryable: boolean;
  /** The first of ApplicationFailure's details, e.g. MetaErrorDetails. */
  details?: unknown;
}

/** `details` of an InvocationError whose `type` is META_API_ERROR. */
export interface MetaErrorDetails {
  /** Meta's `error.code` (e.g. 131042), or the HTTP status when Meta sent no error body. */
  code: number;
  subcode?: number;
  httpStatus: number;
  fbtraceId?: string;
  /** `error.error_data.details`, Meta's human text. */
  detail?: string;
}

export const META_API_ERROR = 'MetaApiError';

/** Meta's error code from an invocation error, if it was a Meta API error. */
export function metaErrorCode(error: unknown): number | undefined {
  const e = error as InvocationError | undefined;
  if (e?.type !== META_API_ERROR) return undefined;
  return (e.details as MetaErrorDetails | undefined)?.code;
}

/** Placeholder body for an invoked actor that the interpreter runs as an activity. */
export function runsAsActivity(name: string): never {
  throw new Error(`${name} is an activity: run this machine with the durable interpreter`);
}
