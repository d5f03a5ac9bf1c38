import { createHmac } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import express, { Router } from 'express';
import { z } from 'zod';
import { eventSignal, type MachineEvent } from '../../workflows/machine-api';
import type { ApiDeps } from '../app';
import { constantTimeEqual } from '../auth';
import { ApiError, parseRequest } from '../errors';
import { routeChanges } from '../webhooks/route-changes';
import { envelopeSchema } from '../webhooks/schemas';

export const SIGNATURE_HEADER = 'x-hub-signature-256';

/** `sha256=<hex>` HMAC-SHA256 of the raw body keyed with the app secret, as Meta signs. */
export function signWebhook(rawBody: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

const handshakeSchema = z.object({
  'hub.mode': z.literal('subscribe'),
  'hub.verify_token': z.string(),
  'hub.challenge': z.string().min(1).max(200),
});

/** Meta's webhooks: the verification handshake and signed deliveries. */
export function webhookRoutes({ client, config, log }: ApiDeps): Router {
  const router = Router();

  router.get('/webhooks/meta', (req, res) => {
    const q = parseRequest(handshakeSchema, req.query, 'query');
    if (!constantTimeEqual(q['hub.verify_token'], config.META_WEBHOOK_VERIFY_TOKEN)) {
      throw new ApiError(403, 'forbidden', 'hub.verify_token does not match', 'query.hub.verify_token');
    }
    res.type('text/plain').send(q['hub.challenge']);
  });

  // The signature is over the raw bytes: the body is read raw, verified, then parsed.
  router.post('/webhooks/meta', express.raw({ type: () => true, limit: '10mb' }), async (req, res) => {
    const raw: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const signature = req.get(SIGNATURE_HEADER);
    if (!signature || !constantTimeEqual(signature, signWebhook(raw, config.META_APP_SECRET))) {
      throw new ApiError(401, 'invalid_signature', `missing or wrong ${SIGNATURE_HEADER}`, `headers.${SIGNATURE_HEADER}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new ApiError(400, 'invalid_json', 'the body is not valid JSON', 'body');
    }
    const envelope = parseRequest(envelopeSchema, json, 'body');
    const { deliveries: direct, byWaba, unrouted } = routeChanges(envelope, Date.now());
    const deliveries = [...direct];
    for (const { wabaId, event } of byWaba) {
      const ids = await runningOnboardingsOfWaba(client, wabaId);
      if (ids.length === 0) unrouted.push(`account_update:no_onboarding_for_waba:${wabaId}`);
      for (const workflowId of ids) deliveries.push({ workflowId, event });
    }

    // 200 only once Temporal holds every event of the request; otherwise Meta redelivers.
    const results = await Promise.all(
      deliveries.map(async ({ workflowId, event }) => {
        try {
          await client.workflow.getHandle(workflowId).signal(eventSignal, event as MachineEvent);
          return 'delivered';
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return `no_workflow:${workflowId}`;
          throw err;
        }
      }),
    );
    const notFound = results.filter((r) => r !== 'delivered');
    if (unrouted.length || notFound.length) log.info({ unrouted, notFound }, 'webhook changes not routed to a workflow');
    res.json({ received: deliveries.length + unrouted.length, delivered: results.length - notFound.length, unrouted: [...unrouted, ...notFound] });
  });

  return router;
}

/** The live onboardings of a WABA, from Temporal visibility (search attribute WabaId). */
async function runningOnboardingsOfWaba(client: ApiDeps['client'], wabaId: string): Promise<string[]> {
  if (!/^\d{1,32}$/.test(wabaId)) return [];
  const ids: string[] = [];
  for await (const execution of client.workflow.list({ query: `WabaId = '${wabaId}' AND ExecutionStatus = 'Running'` })) {
    ids.push(execution.workflowId);
  }
  return ids;
}
