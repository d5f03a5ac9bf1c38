import { createHash } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { IdempotencyKeys } from '../../store';
import { ApiError } from './errors';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** Sent with an answer that is a repeat of the first one. */
export const REPLAYED_HEADER = 'idempotent-replayed';
/** How long a key keeps its first answer. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;
/** A claim without an answer this long belongs to a request whose process died: the key is free again. */
const IN_PROGRESS_LEASE_MS = 60_000;
/** Any visible ASCII (a UUID, a ULID, the backend's own ids), as Stripe's keys. */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

const field = `headers.${IDEMPOTENCY_HEADER}`;

/**
 * `Idempotency-Key` on a POST that creates or changes something (Stripe's convention): the first
 * request with a key is served and its answer kept for 24 h in the store; a repeat with the same
 * method, path and body gets that answer again (with `Idempotent-Replayed: true`), a different
 * request under the same key is refused 409 `idempotency_key_reused`, and a repeat while the first
 * is still being served 409 `idempotency_key_in_use`. An answer of 5xx is not kept, so a retry runs
 * again. Keys are the caller's own (`caller` scopes them: the backend, or an operator).
 * Mounted after authentication and the body parser.
 */
export function idempotent(store: IdempotencyKeys, log: Logger, caller: (res: Response) => string): RequestHandler {
  return async (req, res, next) => {
    const given = req.get(IDEMPOTENCY_HEADER);
    if (req.method !== 'POST' || given === undefined) {
      next();
      return;
    }
    if (!IDEMPOTENCY_KEY.test(given)) {
      throw new ApiError(400, 'invalid_request', `${field}: must be 1–255 visible ASCII characters`, field);
    }
    const key = `${caller(res)}:${given}`;
    const fingerprint = createHash('sha256')
      .update(`${req.method} ${req.originalUrl.split('?')[0]}\n${canonicalJson(req.body)}`)
      .digest('hex');
    const claim = await store.claimIdempotencyKey(key, fingerprint, IDEMPOTENCY_TTL_MS, IN_PROGRESS_LEASE_MS);
    if (!claim.claimed) {
      if (claim.fingerprint !== fingerprint) {
        throw new ApiError(
          409,
          'idempotency_key_reused',
          `${field}: this key was used for a different request in the last 24 h; a new request needs a new key`,
          field,
        );
      }
      if (!claim.answer) {
        throw new ApiError(
          409,
          'idempotency_key_in_use',
          `${field}: the first request with this key is still being answered; retry`,
          field,
        );
      }
      res.status(claim.answer.status).set(REPLAYED_HEADER, 'true').type('application/json').send(claim.answer.body);
      return;
    }
    // Every answer of the routes (and of the error handler) is JSON: keep it before it is sent, so
    // that a repeat the moment the caller has it finds it.
    const send = res.json.bind(res);
    res.json = (body: unknown) => {
      const status = res.statusCode;
      const text = JSON.stringify(body);
      const kept = status >= 500 ? store.releaseIdempotencyKey(key) : store.keepIdempotentAnswer(key, { status, body: text });
      kept.then(
        () => send(body),
        (err: unknown) => {
          // The answer still goes out; the key stays claimed until its lease lapses.
          log.error({ err }, 'idempotency key: the answer could not be kept');
          send(body);
        },
      );
      return res;
    };
    next();
  };
}

/** JSON with object keys sorted, so that one body written with its keys in another order is the same request. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
