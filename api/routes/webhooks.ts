import { createHmac } from 'node:crypto';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import express, { Router } from 'express';
import { z } from 'zod';
import { countWebhookChanges } from '../../observability/metrics';
import { eventSignal, type MachineEvent } from '../../contracts/machine-api';
import type { ApiDeps } from '../app';
import { constantTimeEqual } from '../auth';
import { ApiError, parseRequest } from '../errors';
import { assertSafeJson } from '../json-body';
import type { WebhookAnswer } from '../responses';
import { routeChanges, type Routed } from '../webhooks/route-changes';
import { envelopeSchema } from '../webhooks/schemas';

export const SIGNATURE_HEADER = 'x-hub-signature-256';
/** How long a webhook request may wait for Temporal before it is answered 503. */
const TEMPORAL_DEADLINE_MS = 5_000;

/** `sha256=<hex>` HMAC-SHA256 of the raw body keyed with the app secret, as Meta signs. */
export function signWebhook(rawBody: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

export const handshakeSchema = z.object({
  'hub.mode': z.literal('subscribe'),
  'hub.verify_token': z.string(),
  'hub.challenge': z.string().min(1).max(200),
});

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
  router.post('/webhooks/meta', express.raw({ type: () => true, limit: '10mb' }), async (req, res) => {
    if (!req.is('application/json')) {
      throw new ApiError(415, 'unsupported_media_type', 'the body must be application/json', 'headers.content-type');
    }
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.get('content-type') ?? '')?.[1];
    if (charset && !/^utf-?8$/i.test(charset)) {
      throw new ApiError(
        415,
        'unsupported_encoding',
        `unsupported charset "${charset.slice(0, 40)}": Meta's webhooks are UTF-8`,
        'headers.content-type',
      );
    }
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
    assertSafeJson(json);
    const envelope = parseRequest(envelopeSchema, json, 'body');
    const routed = routeChanges(envelope, Date.now());
    // 200 only once Temporal holds every event of the request; otherwise (503) Meta redelivers.
    // The deadline bounds the client's own retries, so that Meta gets its answer in time.
    const outcome = await client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () =>
      deliver(client, config.TEMPORAL_TASK_QUEUE, routed),
    );
    countWebhookChanges(routed.changes);
    if (outcome.unrouted.length) {
      // Kept before the 200, so that nothing Meta sent is lost even when no workflow takes it.
      await store.keepUnroutedWebhook({ classifications: outcome.unrouted, body: json });
      log.info({ unrouted: outcome.unrouted }, 'webhook changes not routed to a workflow');
    }
    res.json(outcome);
  });

  return router;
}

/** Signals every routed event; resolves once Temporal accepted all of them. */
async function deliver(client: Client, taskQueue: string, { deliveries: direct, conversations, byWaba, unrouted }: Routed) {
  const deliveries = [...direct];
  for (const { wabaId, event } of byWaba) {
    const ids = await runningOnboardingsOfWaba(client, wabaId);
    if (ids.length === 0) unrouted.push(`account_update:no_onboarding_for_waba:${wabaId}`);
    for (const workflowId of ids) deliveries.push({ workflowId, event });
  }
  const [onboardingResults] = await Promise.all([
    Promise.all(
      deliveries.map(async ({ workflowId, event }) => {
        try {
          await client.workflow.getHandle(workflowId).signal(eventSignal, event as MachineEvent);
          return 'delivered';
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return `no_workflow:${workflowId}`;
          throw err;
        }
      }),
    ),
    // A conversation's events in the order Meta listed them; conversations side by side.
    Promise.all(
      [...groupBy(conversations, (d) => d.workflowId)].map(async ([workflowId, group]) => {
        for (const { conversation, event } of group) {
          await client.workflow.signalWithStart('conversationWorkflow', {
            workflowId,
            taskQueue,
            args: [{ input: conversation }],
            signal: eventSignal,
            signalArgs: [event as MachineEvent],
          });
        }
      }),
    ),
  ]);
  const notFound = onboardingResults.filter((r) => r !== 'delivered');
  return {
    received: deliveries.length + conversations.length + unrouted.length,
    delivered: onboardingResults.length - notFound.length + conversations.length,
    unrouted: [...unrouted, ...notFound],
  } satisfies WebhookAnswer;
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

/** The live onboardings of a WABA, from Temporal visibility (search attribute WabaId). */
async function runningOnboardingsOfWaba(client: Client, wabaId: string): Promise<string[]> {
  if (!/^\d{1,32}$/.test(wabaId)) return [];
  const ids: string[] = [];
  for await (const execution of client.workflow.list({ query: `WabaId = '${wabaId}' AND ExecutionStatus = 'Running'` })) {
    ids.push(execution.workflowId);
  }
  return ids;
}
