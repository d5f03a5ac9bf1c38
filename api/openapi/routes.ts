import { Router } from 'express';
import { openApiDocument } from './document';
import { pagePolicy } from '../http/security-headers';
import { docsPage } from './page';

/** The OpenAPI document and a page that shows it; no key needed, as neither holds a secret. */
export function openApiRoutes(): Router {
  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  let page: string | undefined;
  // Rendered on the server: the page needs no script, so it is allowed none; its one style sheet is inline.
  router.get('/docs', pagePolicy({ styleSrc: ["'unsafe-inline'"] }), (_req, res) => {
    page ??= docsPage(openApiDocument());
    res.type('html').send(page);
  });
  return router;
}
