import { join } from 'node:path';
import express, { Router, type RequestHandler } from 'express';
import { pagePolicy } from '../http/security-headers';

const PAGE_DIR = join(__dirname, 'page');

/** The page holds no data: scripts, styles, images and calls to this origin only (the rest: securityHeaders). */
const pageHeaders: RequestHandler[] = [
  pagePolicy({ scriptSrc: ["'self'"], styleSrc: ["'self'"], connectSrc: ["'self'"], imgSrc: ["'self'"] }),
  (_req, res, next) => {
    res.set('cache-control', 'no-cache');
    next();
  },
];

/**
 * The ops page: static files, served without a token. It asks the operator for one and calls the
 * token-guarded `/ops/onboardings` routes with it, so nothing is shown without a valid token.
 */
export function opsPageRoutes(): Router {
  const router = Router();
  router.get('/ops', ...pageHeaders, (_req, res) => {
    res.sendFile('index.html', { root: PAGE_DIR });
  });
  router.use('/ops/assets', ...pageHeaders, express.static(PAGE_DIR, { index: false, redirect: false }));
  return router;
}
