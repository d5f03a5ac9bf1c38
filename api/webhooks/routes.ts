import { Router } from 'express';
import { countWebhookChanges } from '../../observability/metrics';
import type { ApiDeps } from '../deps';
import { constantTimeEqual } from '../http/auth';
import { ApiError, parseRequest } from '../http/errors';
import { rawJsonBody, readRawJson } from '../http/json-body';
import { deliverWebhook } from './deliver';
import { routeChanges } from './route-changes';
import { envelopeSchema, handshakeSchema } from './schemas';
import { verifyMetaSignature } from './signature';

/** How long a webhook request may wait for Temporal before it is answered 503. */
const TEMPORAL_DEADLINE_MS = 5_000;

/** Meta's webhooks: the verification handshake and signed deliveries. */
export function webhookRoutes({ client, config, log, store }: ApiDeps): Router {
  const router = Router();

  router.get('/webhooks/meta', (req, res) => {
    const q = parseRequest(handshakeSchema, req.query, 'query');
    if (!constantTimeEqual(q['hub.verify_token'], config.META_WEBHOOK_VERIFY_TOKEN)) {
      throw new ApiError(403, 'forbidden', 'hub.verify_token does not match', 'query.hub.verify_token');
    }
    res.type('text/plain').send(q['hub.challenge']);
  });

  // The signature is over the raw bytes: the body is read raw, verified, then parsed.
  router.post('/webhooks/meta', ...rawJsonBody('10mb'), verifyMetaSignature(config.META_APP_SECRET), async (req, res) => {
    const json = readRawJson(req.body);
    const envelope = parseRequest(envelopeSchema, json, 'body');
    const routed = routeChanges(envelope, Date.now());
    // 200 only once Temporal holds every event of the request; otherwise (503) Meta redelivers.
    // The deadline bounds the client's own retries, so that Meta gets its answer in time.
    const answer = await client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () =>
      deliverWebhook(client, config.TEMPORAL_TASK_QUEUE, routed),
    );
    countWebhookChanges(routed.changes);
    if (answer.unrouted.length) {
      // Kept before the 200, so that nothing Meta sent is lost even when no workflow takes it.
      await store.keepUnroutedWebhook({ classifications: answer.unrouted, body: json });
      log.info({ unrouted: answer.unrouted }, 'webhook changes not routed to a workflow');
    }
    res.json(answer);
  });

  return router;
}
