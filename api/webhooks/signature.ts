import type { RequestHandler } from 'express';
import { sha256Signature } from '../../security/hmac';
import { constantTimeEqual } from '../http/auth';
import { ApiError } from '../http/errors';

export const SIGNATURE_HEADER = 'x-hub-signature-256';

/** `sha256=<hex>` HMAC-SHA256 of the raw body keyed with the app secret, as Meta signs. */
export function signWebhook(rawBody: Buffer | string, appSecret: string): string {
  return sha256Signature(rawBody, appSecret);
}

/** Refuses (401) a body, read raw before it (rawJsonBody), that the app secret did not sign. */
export function verifyMetaSignature(appSecret: string): RequestHandler {
  return (req, _res, next) => {
    const raw: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const signature = req.get(SIGNATURE_HEADER);
    if (!signature || !constantTimeEqual(signature, signWebhook(raw, appSecret))) {
      next(new ApiError(401, 'invalid_signature', `missing or wrong ${SIGNATURE_HEADER}`, `headers.${SIGNATURE_HEADER}`));
      return;
    }
    next();
  };
}
