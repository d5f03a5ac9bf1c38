import type { Payload } from '@temporalio/common';
import { Router, type RequestHandler } from 'express';
import { AesGcmPayloadCodec } from '../../security/payload-codec';
import type { ApiDeps } from '../deps';
import { requireOpsToken } from '../http/auth';
import { ApiError, parseRequest } from '../http/errors';
import { jsonBody } from '../http/json-body';
import { fromWire, toWire } from './presenter';
import { codecRequestSchema, type CodecPayloads } from './schemas';

/**
 * The Web UI cannot send an ops token header; signed in on the ops page, the browser holds the token
 * in this cookie (Path=/codec, SameSite=Strict), which the UI sends with "include cross-origin credentials".
 */
export const CODEC_COOKIE = 'coexist_ops_codec';

/**
 * Browsers (the Temporal Web UI) call the codec from another origin: CORS for the configured
 * origins, and the preflight answered before the token is asked for (a preflight carries none).
 */
function codecCors(origins: string[]): RequestHandler {
  return (req, res, next) => {
    const origin = req.get('origin');
    if (origin && origins.includes(origin)) {
      res.set({
        'access-control-allow-origin': origin,
        'access-control-allow-credentials': 'true',
        'access-control-allow-methods': 'POST',
        'access-control-allow-headers': 'authorization, content-type, x-namespace',
        'access-control-max-age': '600',
      });
    }
    res.vary('origin');
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  };
}

/**
 * The payload codec as a codec server (https://docs.temporal.io/production-deployment/data-encryption),
 * so that the Web UI and `temporal` CLI show decrypted payloads to operators, and only to them.
 */
export function codecRoutes({ config }: ApiDeps): Router {
  const router = Router();
  const codec = new AesGcmPayloadCodec(config.PAYLOAD_CODEC_KEYS);
  const origins = config.CODEC_CORS_ORIGINS ?? [
    `http://127.0.0.1:${config.TEMPORAL_DEV_UI_PORT}`,
    `http://localhost:${config.TEMPORAL_DEV_UI_PORT}`,
  ];
  router.use('/codec', codecCors(origins), requireOpsToken(config.OPS_TOKENS, { cookie: CODEC_COOKIE }), ...jsonBody('8mb'));

  for (const direction of ['encode', 'decode'] as const) {
    router.post(`/codec/${direction}`, async (req, res) => {
      const { payloads } = parseRequest(codecRequestSchema, req.body, 'body');
      let done: Payload[];
      try {
        done = await codec[direction](payloads.map(fromWire));
      } catch (err) {
        throw new ApiError(
          400,
          'undecodable_payload',
          `a payload cannot be ${direction}d: ${(err as Error).message}`,
          'body.payloads',
        );
      }
      res.json({ payloads: done.map(toWire) } satisfies CodecPayloads);
    });
  }
  return router;
}
