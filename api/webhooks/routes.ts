import { Router } from 'express';
import { countWebhookChanges } from '../../observability/metrics';
import type { ApiDeps } from '../deps';
import { constantTimeEqual } from '../http/auth';
import { ApiError, parseRequest } from '../http/errors';
import { rawBytes, rawJsonBody, readRawJson } from '../http/json-body';
import { deliverWebhook } from './deliver';
import { routeChanges } from './route-changes';
import { envelopeSchema, handshakeSchema, type Handshake, type WebhookAnswer } from './schemas';
import { verifyMetaSignature } from './signature';

/** How long a webhook request may wait for Temporal before it is answered 503. */
const TEMPORAL_DEADLINE_MS = 5_000;

/** Meta's webhooks: the verification handshake and signed deliveries. */
export function webhookRoutes({ client, config, log, store }: ApiDeps): Router {
  const router = Router();

  // Anything but Meta's exact handshake is refused 403 (a handshake not for us), never 400; the
  // challenge goes back as text/plain, and securityHeaders' nosniff keeps a browser from reading it as HTML.
  router.get('/webhooks/meta', (req, res) => {
    const q = verifyHandshake(req.query, config.META_WEBHOOK_VERIFY_TOKEN);
    res.type('text/plain').send(q['hub.challenge']);
  });

  // The signature is over the raw bytes: the body is read raw, verified, then parsed.
  router.post('/webhooks/meta', ...rawJsonBody('10mb'), verifyMetaSignature(config.META_APP_SECRET), async (req, res) => {
    const { raw, utf8 } = rawBytes(req.body);
    if (!utf8) {
      // Meta sends UTF-8: bytes that are not are kept as sent and flagged, never decoded into U+FFFD.
      const unrouted = ['body:invalid_utf8'];
      await store.keepUnroutedWebhook({ classifications: unrouted, body: { invalidUtf8: true, base64: raw.toString('base64') } });
      log.warn({ bytes: raw.length }, 'a signed webhook is not valid UTF-8: kept raw, not routed');
      res.json({ received: 0, delivered: 0, unrouted } satisfies WebhookAnswer);
      return;
    }
    const json = readRawJson(raw);
    const envelope = parseRequest(envelopeSchema, json, 'body');
    const routed = routeChanges(envelope, Date.now());
    for (const template of routed.templates) await store.recordTemplate(template);
    for (const contact of routed.contacts) await store.recordContact(contact);
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

const refused = (why: string, field?: string) =>
  new ApiError(403, 'forbidden', `not a verification handshake for this app: ${why}`, field);

/** Meta's verification handshake: each of hub.mode=subscribe, hub.verify_token (ours) and hub.challenge exactly once. */
function verifyHandshake(query: Record<string, unknown>, verifyToken: string): Handshake {
  const bracketed = Object.keys(query).find((key) => /[[\]]/.test(key));
  if (bracketed !== undefined) throw refused("bracketed parameters are not Meta's", `query.${bracketed.slice(0, 40)}`);
  const repeated = Object.keys(handshakeSchema.shape).find((key) => Array.isArray(query[key]));
  if (repeated) throw refused(`${repeated} is given more than once`, `query.${repeated}`);
  const parsed = handshakeSchema.safeParse(query);
  if (!parsed.success) {
    const field = `query.${parsed.error.issues[0]!.path.join('.')}`;
    throw refused(`${field}: ${parsed.error.issues[0]!.message}`, field);
  }
  if (!constantTimeEqual(parsed.data['hub.verify_token'], verifyToken)) {
    throw refused('hub.verify_token does not match', 'query.hub.verify_token');
  }
  return parsed.data;
}
