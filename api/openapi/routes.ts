import { join } from 'node:path';
import express, { Router, type Request } from 'express';
import { openApiDocument } from './document';
import { pagePolicy } from '../http/security-headers';
import { docsPage } from './page';

/** The API's own URL as this request reached it. */
export function originOf(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

/** The OpenAPI document and a page that shows it; no key needed, as neither holds a secret. */
export function openApiRoutes(): Router {
  const router = Router();
  router.get('/openapi.json', (req, res) => {
    res.json({ ...openApiDocument(), servers: [{ url: originOf(req), description: 'this API' }] });
  });
  // Rendered on the server: the page needs no script, so it is allowed none; its style is a file.
  router.get('/docs', pagePolicy({ styleSrc: ["'self'"] }), (req, res) => {
    res.type('html').send(docsPage(openApiDocument(), originOf(req)));
  });
  router.use('/docs/assets', express.static(join(__dirname, 'assets'), { index: false, redirect: false }));
  return router;
}
