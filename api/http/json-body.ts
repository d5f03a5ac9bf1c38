import { isUtf8 } from 'node:buffer';
import express, { type RequestHandler } from 'express';
import { requireJson } from './auth';
import { ApiError } from './errors';

/** Objects and arrays nested deeper than any request or Meta webhook: past it a body is refused before any schema walks it. */
export const MAX_JSON_DEPTH = 32;

/**
 * Refuses what parsed as JSON but must not go further: nesting past MAX_JSON_DEPTH (schemas,
 * JSON.stringify and Temporal's converter recurse), NUL characters in strings or keys (neither
 * PostgreSQL text nor jsonb can hold one) and `__proto__` keys. Iterative, so no depth overflows it.
 */
export function assertSafeJson(value: unknown): void {
  const stack: { node: unknown; path: string[] }[] = [{ node: value, path: [] }];
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    const field = ['body', ...path].join('.');
    if (typeof node === 'string') {
      if (node.includes('\u0000'))
        throw new ApiError(400, 'invalid_request', `${field}: must not contain a NUL character`, field);
    } else if (node && typeof node === 'object') {
      // This object or array is inside path.length others.
      if (path.length >= MAX_JSON_DEPTH)
        throw new ApiError(400, 'invalid_request', `${field}: nested deeper than ${MAX_JSON_DEPTH} levels`, field);
      for (const [key, child] of Object.entries(node)) {
        if (key.includes('\u0000'))
          throw new ApiError(400, 'invalid_request', `${field}: a key must not contain a NUL character`, field);
        // Harmless to JSON.parse, but any later copy by assignment would set a prototype.
        if (key === '__proto__')
          throw new ApiError(400, 'invalid_request', `${field}: a key must not be __proto__`, `${field}.__proto__`);
        stack.push({ node: child, path: [...path, key] });
      }
    }
  }
}

/** Set by the body parser on a request whose UTF-8 body holds bytes that are not UTF-8. */
const NOT_UTF8 = Symbol('not UTF-8');

const guard: RequestHandler = (req, _res, next) => {
  if ((req as unknown as Record<symbol, boolean>)[NOT_UTF8]) {
    // Decoded, those bytes would have become U+FFFD without a trace: refused instead.
    throw new ApiError(400, 'invalid_encoding', 'the body is not valid UTF-8', 'body');
  }
  assertSafeJson(req.body);
  next();
};

/**
 * A JSON request body: declared application/json, at most `limit`, valid UTF-8 (the body parser
 * also reads UTF-16; any other declared charset is 415), and safe to pass on.
 */
export function jsonBody(limit: string): RequestHandler[] {
  return [
    requireJson,
    express.json({
      limit,
      verify: (req, _res, bytes, encoding) => {
        if (/^utf-?8$/i.test(encoding) && !isUtf8(bytes)) (req as unknown as Record<symbol, boolean>)[NOT_UTF8] = true;
      },
    }),
    guard,
  ];
}

/**
 * A JSON body kept raw (a Buffer in `req.body`), for a route that must check the bytes as sent
 * before it parses them: declared application/json in UTF-8, at most `limit`. A
 * compressed body is refused (415), never inflated: a signature covers the bytes as sent.
 */
export function rawJsonBody(limit: string): RequestHandler[] {
  return [express.raw({ type: () => true, limit, inflate: false }), requireJson, requireUtf8];
}

const requireUtf8: RequestHandler = (req, _res, next) => {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.get('content-type') ?? '')?.[1];
  if (charset && !/^utf-?8$/i.test(charset)) {
    next(
      new ApiError(
        415,
        'unsupported_encoding',
        `unsupported charset "${charset.slice(0, 40)}": Meta's webhooks are UTF-8, and a signed body is read as sent, never re-encoded`,
        'headers.content-type',
      ),
    );
    return;
  }
  next();
};

/** The bytes a raw body read by rawJsonBody holds, and whether they are UTF-8. */
export function rawBytes(body: unknown): { raw: Buffer; utf8: boolean } {
  const raw: Buffer = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
  return { raw, utf8: isUtf8(raw) };
}
