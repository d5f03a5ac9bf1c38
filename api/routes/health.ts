import { Router } from 'express';
import type { ApiDeps } from '../app';

/** Liveness of the API and reachability of Temporal. */
export function healthRoutes({ client }: ApiDeps): Router {
  const router = Router();
  router.get('/health', async (_req, res) => {
    try {
      await client.workflowService.getSystemInfo({});
      res.json({ status: 'ok', temporal: 'serving' });
    } catch {
      res.status(503).json({ status: 'degraded', temporal: 'unreachable' });
    }
  });
  return router;
}
