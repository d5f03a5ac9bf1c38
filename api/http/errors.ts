import { ApplicationFailure, ServiceError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import { InvalidMessageQueryError } from '../../store/message-store';
import type { ErrorBody } from './schemas';

/** Every error answer: `{ error: { code, message, field?, hint? } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    /** What the caller can do instead (e.g. send a template outside the window). */
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Parses one part of a request with its zod schema; a failure is a 400 naming the field. */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown, part: 'body' | 'params' | 'query'): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
  const field = [part, ...path.map(String)].join('.');
  throw new ApiError(400, 'invalid_request', `${field}: ${issue.message}`, field);
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, 'not_found', `no route ${req.method} ${req.path}`));
};

export function errorHandler(log: { error: (obj: object, msg: string) => void }): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    const body = toApiError(err);
    if (body.status >= 500) log.error({ err }, 'request failed');
    res.status(body.status).json({
      error: {
        code: body.code,
        message: body.message,
        ...(body.field ? { field: body.field } : {}),
        ...(body.hint ? { hint: body.hint } : {}),
      },
    } satisfies ErrorBody);
  };
}

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof WorkflowNotFoundError) return new ApiError(404, 'not_found', 'no such workflow');
  if (err instanceof InvalidMessageQueryError) return new ApiError(400, 'invalid_request', err.message, `query.${err.field}`);
  if (err instanceof WorkflowUpdateFailedError) {
    // A machine's refusal names its reason (interpreter `refusal`); otherwise the generic one.
    const cause = err.cause;
    if (cause instanceof ApplicationFailure && cause.type && cause.type !== 'Error') {
      const hint = typeof cause.details?.[0] === 'string' ? cause.details[0] : undefined;
      return new ApiError(409, cause.type, cause.message, undefined, hint);
    }
    return new ApiError(409, 'event_refused', (cause as Error | undefined)?.message ?? err.message);
  }
  if (err instanceof ServiceError || isConnectionError(err)) {
    return new ApiError(503, 'temporal_unavailable', 'Temporal cannot be reached; retry later');
  }
  const e = err as { type?: string; status?: number; message?: string };
  // body-parser's errors carry a status and a type.
  if (e.type === 'entity.parse.failed') return new ApiError(400, 'invalid_json', 'the body is not valid JSON', 'body');
  if (e.type === 'entity.too.large') return new ApiError(413, 'payload_too_large', 'the body is larger than allowed', 'body');
  if (e.type === 'charset.unsupported') {
    const charset = String((err as { charset?: unknown }).charset ?? '').slice(0, 40);
    return new ApiError(
      415,
      'unsupported_encoding',
      `unsupported charset "${charset}": a JSON body is read as UTF-8 (or UTF-16), never guessed; send UTF-8`,
      'headers.content-type',
    );
  }
  if (e.type === 'encoding.unsupported') {
    return new ApiError(415, 'unsupported_encoding', e.message ?? 'unsupported encoding', 'headers.content-encoding');
  }
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new ApiError(e.status, 'bad_request', e.message ?? 'bad request');
  }
  return new ApiError(500, 'internal', 'internal error');
}

/** gRPC UNAVAILABLE / DEADLINE_EXCEEDED, or a refused connection: Temporal is not there. */
function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 14 || code === 4 || code === 'ECONNREFUSED';
}
