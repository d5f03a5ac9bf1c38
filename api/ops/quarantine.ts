/**
 * Operators: the quarantine, everything of Meta's webhooks that no workflow took, kept with the
 * delivery's bytes; list it, inspect one, and replay a selection once the cause is fixed (an
 * onboarding now runs, a bug is deployed). A replay routes the bytes again exactly as the intake
 * does and queues them under the same item keys: what was applied is not applied again.
 */
import { Router } from 'express';
import type { ApiDeps } from '../deps';
import { requireOpsToken } from '../http/auth';
import { ApiError, parseRequest } from '../http/errors';
import { idempotent } from '../http/idempotency';
import { jsonBody } from '../http/json-body';
import { readDelivery } from '../webhooks/intake';
import {
  quarantineParamsSchema,
  quarantineQuerySchema,
  replaySchema,
  type QuarantineInspection,
  type QuarantineList,
  type ReplayAnswer,
} from './quarantine-schemas';

export function quarantineRoutes({ config, log, store, dispatcher }: ApiDeps): Router {
  const router = Router();
  router.use('/ops/quarantine', requireOpsToken(config.OPS_TOKENS));

  router.get('/ops/quarantine', async (req, res) => {
    const query = parseRequest(quarantineQuerySchema, req.query, 'query');
    res.json((await store.listQuarantine(query)) satisfies QuarantineList);
  });

  router.get('/ops/quarantine/:id', async (req, res) => {
    const { id } = parseRequest(quarantineParamsSchema, req.params, 'params');
    const entry = await store.quarantineEntry(id);
    if (!entry) throw new ApiError(404, 'not_found', `no quarantine entry ${id}`);
    const { raw, ...rest } = entry;
    res.json({ ...rest, ...(raw ? { bytes: raw.length } : {}) } satisfies QuarantineInspection);
  });

  router.post(
    '/ops/quarantine/replay',
    ...jsonBody('8kb'),
    idempotent(store, log, (res) => `ops:${String(res.locals.operator)}`),
    async (req, res) => {
      const { ids } = parseRequest(replaySchema, req.body, 'body');
      const answer: ReplayAnswer = { replayed: [], notReplayable: [] };
      for (const id of [...new Set(ids)]) {
        const entry = await store.quarantineEntry(id);
        if (!entry?.raw || !entry.deliveryId) {
          answer.notReplayable.push(id);
          continue;
        }
        // Routed as received: the events keep the time Meta delivered them.
        // Bytes that are not JSON replay nothing; a store that fails fails the request.
        const { items, historyMedia } = await readDelivery(entry.raw, Date.parse(entry.receivedAt), store).catch(
          (err: unknown) => {
            if (err instanceof ApiError) return { items: [], historyMedia: [] };
            throw err;
          },
        );
        // History media follow-ups filed before they were understood reach their placeholders now.
        for (const media of historyMedia) await store.attachHistoryMedia(media);
        const { queued } = await store.requeueDelivery(id, entry.deliveryId, items);
        answer.replayed.push({ id, queued });
      }
      dispatcher?.wake();
      log.info({ operator: res.locals.operator, replayed: answer.replayed }, 'quarantine replayed');
      res.json(answer);
    },
  );

  return router;
}
