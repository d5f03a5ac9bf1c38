import { Router } from 'express';
import { countWebhookChanges } from '../../observability/metrics';
import { awaitsRegistration } from '../../store/inbox';
import type { ApiDeps } from '../deps';
import { constantTimeEqual } from '../http/auth';
import { ApiError } from '../http/errors';
import { rawBytes, rawJsonBody } from '../http/json-body';
import { readDelivery } from './intake';
import { handshakeSchema, type Handshake, type WebhookAnswer } from './schemas';
import { verifyMetaSignature } from './signature';

/** Meta sends at most 3 MB in one delivery; a larger body is not Meta's (413). */
export const MAX_WEBHOOK_BODY = '3mb';

/** Meta's webhooks: the verification handshake and signed deliveries. */
export function webhookRoutes({ config, log, store, dispatcher }: ApiDeps): Router {
  const router = Router();

  // Anything but Meta's exact handshake is refused 403 (a handshake not for us), never 400; the
  // challenge goes back as text/plain, and securityHeaders' nosniff keeps a browser from reading it as HTML.
  router.get('/webhooks/meta', (req, res) => {
    const q = verifyHandshake(req.query, config.META_WEBHOOK_VERIFY_TOKEN);
    res.type('text/plain').send(q['hub.challenge']);
  });

  // The signature is over the raw bytes as received: the body is read raw (never inflated),
  // verified, then parsed. A signed delivery is kept whole in the inbox and answered 200 at once:
  // Meta never resends after a 200, so the 200 means "durably stored"; the dispatcher then hands
  // its items to their workflows (api/webhooks/dispatcher.ts), whether or not Temporal is up now.
  router.post(
    '/webhooks/meta',
    ...rawJsonBody(MAX_WEBHOOK_BODY),
    verifyMetaSignature(config.META_APP_SECRET),
    async (req, res) => {
      const receivedAt = Date.now();
      const { raw } = rawBytes(req.body);
      const intake = await readDelivery(raw, receivedAt, store);
      // Template statuses, the app's contacts and history media go to the store itself (no workflow
      // needs them), before the 200 too; a profile name rides on its message and is not counted apart.
      for (const template of intake.templates) await store.recordTemplate(template);
      for (const contact of intake.contacts) await store.recordContact(contact);
      for (const media of intake.historyMedia) await store.attachHistoryMedia(media);
      const stored =
        intake.templates.length + intake.contacts.filter((c) => c.action !== 'profile').length + intake.historyMedia.length;
      const { deliverySeq, queued } = await store.keepDelivery({ raw, items: intake.items, classifications: intake.unrouted });
      // Its number registered since the registry was asked: the delivery is replayed at once (the
      // onboarding's registration marks only what was kept before it).
      if (intake.refused.some((r) => awaitsRegistration(r))) await store.markReplayDue({ deliverySeq });
      dispatcher?.wake();
      countWebhookChanges(intake.changes);
      if (intake.unrouted.length) log.info({ unrouted: intake.unrouted }, 'webhook changes not routed to a workflow');
      res.json({
        received: intake.items.length + stored + intake.unrouted.length,
        queued,
        unrouted: intake.unrouted,
      } satisfies WebhookAnswer);
    },
  );

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
