import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ApiError } from './errors';

export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The backend's routes: `X-Api-Key` must be BACKEND_API_KEY. */
export function requireApiKey(apiKey: string): RequestHandler {
  return (req, _res, next) => {
    const given = req.get('x-api-key');
    if (!given || !constantTimeEqual(given, apiKey)) {
      next(new ApiError(401, 'unauthorized', 'a valid X-Api-Key header is required', 'headers.x-api-key'));
      return;
    }
    next();
  };
}

/** A body that is not declared JSON is refused rather than read as empty. */
export const requireJson: RequestHandler = (req, _res, next) => {
  if (req.method === 'POST' && !req.is('application/json')) {
    next(new ApiError(415, 'unsupported_media_type', 'the body must be application/json', 'headers.content-type'));
    return;
  }
  next();
};

/**
 * The ops routes: `Authorization: Bearer <token>` (or `<name>:<token>`) of one of OPS_TOKENS (or,
 * where a browser calls without a header, the named cookie); the operator's name goes to
 * `res.locals.operator` for the audit trail.
 */
export function requireOpsToken(tokens: { name: string; token: string }[], { cookie }: { cookie?: string } = {}): RequestHandler {
  return (req, res, next) => {
    const given =
      /^Bearer (.+)$/i.exec(req.get('authorization') ?? '')?.[1] ?? (cookie ? cookieValue(req.get('cookie'), cookie) : undefined);
    // The token, or the whole `name:token` pair as OPS_TOKENS spells it.
    const operator = given
      ? tokens.find((t) => constantTimeEqual(given, t.token) || constantTimeEqual(given, `${t.name}:${t.token}`))
      : undefined;
    if (!operator) {
      next(
        new ApiError(
          401,
          'unauthorized',
          'a valid ops token is required: Authorization: Bearer <token>',
          'headers.authorization',
        ),
      );
      return;
    }
    res.locals.operator = operator.name;
    next();
  };
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) {
      try {
        return decodeURIComponent(part.slice(at + 1).trim()) || undefined;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
