import { Router } from 'express';
import type { ApiDeps } from '../deps';
import { requireApiKey } from '../http/auth';
import { parseRequest } from '../http/errors';
import { contactParamsSchema, listContactsQuerySchema, type ContactPageView } from './schemas';

/** A number's contact book, from the message store. */
export function contactRoutes({ config, store }: ApiDeps): Router {
  const router = Router();
  router.use('/numbers/:phoneNumberId/contacts', requireApiKey(config.BACKEND_API_KEY));

  router.get('/numbers/:phoneNumberId/contacts', async (req, res) => {
    const { phoneNumberId } = parseRequest(contactParamsSchema, req.params, 'params');
    const query = parseRequest(listContactsQuerySchema, req.query, 'query');
    res.json((await store.listContacts({ phoneNumberId, ...query })) satisfies ContactPageView);
  });

  return router;
}
