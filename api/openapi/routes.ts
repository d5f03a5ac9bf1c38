import { Router } from 'express';
import { openApiDocument } from './document';
import { docsPage } from './page';

/** The OpenAPI document and a page that shows it; no key needed, as neither holds a secret. */
export function openApiRoutes(): Router {
  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  let page: string | undefined;
  router.get('/docs', (_req, res) => {
    page ??= docsPage(openApiDocument());
    // Rendered on the server: the page needs no script, so it is allowed none.
    res.set('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'").type('html').send(page);
  });
  return router;
}
