import { Router } from 'express';
import type { ApiDeps } from '../deps';
import type { Degraded, Healthy } from './schemas';

/** Liveness of the API and reachability of Temporal. */
export function healthRoutes({ client }: ApiDeps): Router {
  const router = Router();
  router.get('/health', async (_req, res) => {
    try {
      await client.workflowService.getSystemInfo({});
      res.json({ status: 'ok', temporal: 'serving' } satisfies Healthy);
    } catch {
      res.status(503).json({ status: 'degraded', temporal: 'unreachable' } satisfies Degraded);
    }
  });
  return router;
}
