import { join } from 'node:path';
import express, { Router, type RequestHandler } from 'express';

const PAGE_DIR = join(__dirname, 'page');

/** The page holds no data: scripts and styles from here only, never framed, no referrer leaks. */
const pageHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'content-security-policy':
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  });
  next();
};

/**
 * The ops page: static files, served without a token. It asks the operator for one and calls the
 * token-guarded `/ops/onboardings` routes with it, so nothing is shown without a valid token.
 */
export function opsPageRoutes(): Router {
  const router = Router();
  router.get('/ops', pageHeaders, (_req, res) => {
    res.sendFile('index.html', { root: PAGE_DIR });
  });
  router.use('/ops/assets', pageHeaders, express.static(PAGE_DIR, { index: false, redirect: false }));
  return router;
}
