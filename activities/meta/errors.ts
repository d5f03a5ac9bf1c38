import { ApplicationFailure } from '@temporalio/common';
import { META_API_ERROR, type MetaErrorDetails } from '../../machines/effects';

/**
 * Meta error codes that a later attempt can fix by itself (docs/meta.md#graph-call-codes): service trouble
 * and throttling. Every other code needs a person or a code change, so Temporal must not retry.
 */
export const RETRYABLE_META_CODES = new Set([1, 2, 4, 17, 80007, 130429, 131000, 131016, 131056, 131057, 133004]);

/** Throttling codes, for which a longer first delay is used. */
const THROTTLING_CODES = new Set([4, 17, 80007, 130429, 131056]);

/** Retryable: a known transient code, or a 5xx that carried no Meta error code at all. */
export function isRetryableMetaError(code: number | undefined, httpStatus: number): boolean {
  return code === undefined ? httpStatus >= 500 || httpStatus === 429 : RETRYABLE_META_CODES.has(code);
}

export interface MetaErrorEnvelope {
  message?: string;
  type?: string;
  code?: number;
  error_subcode?: number;
  error_data?: { details?: string };
  fbtrace_id?: string;
}

/** A Temporal failure carrying Meta's code; `endpoint` names the call without ids or secrets. */
export function metaFailure(
  endpoint: string,
  httpStatus: number,
  error: MetaErrorEnvelope | undefined,
  retryAfterMs?: number,
): ApplicationFailure {
  const code = error?.code ?? httpStatus;
  const details: MetaErrorDetails = {
    code,
    httpStatus,
    ...(error?.error_subcode !== undefined ? { subcode: error.error_subcode } : {}),
    ...(error?.fbtrace_id ? { fbtraceId: error.fbtrace_id } : {}),
    ...(error?.error_data?.details ? { detail: error.error_data.details } : {}),
  };
  const message = `${endpoint}: (#${code}) ${error?.message ?? `HTTP ${httpStatus}`}`;
  const retryable = isRetryableMetaError(error?.code, httpStatus);
  return ApplicationFailure.create({
    message,
    type: META_API_ERROR,
    nonRetryable: !retryable,
    details: [details],
    ...(retryable && (retryAfterMs ?? (THROTTLING_CODES.has(code) ? 2_000 : undefined))
      ? { nextRetryDelay: retryAfterMs ?? 2_000 }
      : {}),
  });
}

/** Connection errors that mean the request never left this machine. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

/**
 * The request never got a Meta answer (refused, reset, timed out): retryable. Its detail says
 * whether the request may have reached Meta (`requestSent`), which decides if a send is repeated.
 */
export function networkFailure(endpoint: string, cause: unknown): ApplicationFailure {
  const timedOut = (cause as Error)?.name === 'TimeoutError' || (cause as Error)?.name === 'AbortError';
  const code = (cause as { cause?: { code?: unknown } })?.cause?.code;
  const requestSent = !(typeof code === 'string' && NOT_SENT_CODES.has(code));
  return ApplicationFailure.create({
    message: `${endpoint}: ${timedOut ? 'timed out' : 'no answer'} (${typeof code === 'string' ? code : ((cause as Error)?.name ?? 'Error')})`,
    type: 'MetaUnreachable',
    nonRetryable: false,
    details: [{ requestSent }],
  });
}

/** Meta answered 2xx with a body that is not what the endpoint returns. */
export function unexpectedResponse(endpoint: string, issue: string): ApplicationFailure {
  return ApplicationFailure.create({
    message: `${endpoint}: unexpected response (${issue})`,
    type: 'MetaUnexpectedResponse',
    nonRetryable: true,
  });
}
