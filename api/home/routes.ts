import { Router } from 'express';
import { version } from '../../package.json';
import type { ApiDeps } from '../deps';
import { landingPage, webUiUrl } from './page';

/** `GET /`: where to go from here. */
export function homeRoutes({ config }: ApiDeps): Router {
  const router = Router();
  const page = landingPage(version, webUiUrl(config));
  router.get('/', (_req, res) => {
    res
      .set(
        'content-security-policy',
        "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      )
      .type('html')
      .send(page);
  });
  return router;
}
