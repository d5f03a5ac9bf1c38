import { WorkflowFailedError } from '@temporalio/client';
import { Router } from 'express';
import { templateRefreshWorkflowId, type TemplateRefreshInput } from '../../contracts/templates';
import type { ApiDeps } from '../deps';
import { requireApiKey } from '../http/auth';
import { ApiError, parseRequest } from '../http/errors';
import type { NumberWabaLookup } from '../number-waba';
import { presentTemplate } from './presenter';
import { listTemplatesQuerySchema, numberParamsSchema, type TemplateList, type TemplateRefresh } from './schemas';

/** A number's message templates: as Meta last reported them, and read again from Meta on demand. */
export function templateRoutes({ client, config, store }: ApiDeps, wabaOf: NumberWabaLookup): Router {
  const router = Router();
  router.use('/numbers/:phoneNumberId/templates', requireApiKey(config.BACKEND_API_KEY));

  const wabaOrNotFound = async (phoneNumberId: string) => {
    const wabaId = await wabaOf(phoneNumberId);
    if (!wabaId) throw new ApiError(404, 'not_found', `no running onboarding holds phone number id ${phoneNumberId}`);
    return wabaId;
  };

  router.get('/numbers/:phoneNumberId/templates', async (req, res) => {
    const { phoneNumberId } = parseRequest(numberParamsSchema, req.params, 'params');
    const query = parseRequest(listTemplatesQuerySchema, req.query, 'query');
    const wabaId = await wabaOrNotFound(phoneNumberId);
    const templates = (await store.listTemplates(wabaId, query)).map(presentTemplate);
    res.json({ phoneNumberId, wabaId, templates } satisfies TemplateList);
  });

  // A workflow reads Meta's list (the token stays with the worker); one per WABA at a time.
  router.post('/numbers/:phoneNumberId/templates/refresh', async (req, res) => {
    const { phoneNumberId } = parseRequest(numberParamsSchema, req.params, 'params');
    const wabaId = await wabaOrNotFound(phoneNumberId);
    const input: TemplateRefreshInput = { phoneNumberId, wabaId };
    try {
      const handle = await client.workflow.start('templateRefreshWorkflow', {
        workflowId: templateRefreshWorkflowId(wabaId),
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      const { templates } = (await handle.result()) as { templates: number };
      res.json({ phoneNumberId, wabaId, templates } satisfies TemplateRefresh);
    } catch (err) {
      if (!(err instanceof WorkflowFailedError)) throw err;
      const cause = (err.cause?.cause ?? err.cause) as Error | undefined;
      throw new ApiError(502, 'meta_api_error', `Meta's template list could not be read: ${cause?.message ?? err.message}`);
    }
  });

  return router;
}
