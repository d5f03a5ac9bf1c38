import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { logContext } from '../../logger';
import { httpRequestDuration, httpRequests, webhookOutcome, webhookRequests } from '../../observability/metrics';

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * Mounted before every route:
 * - each request gets a request id (the caller's `X-Request-Id` when it is a sane token, else a new
 *   UUID), echoed in the answer's `X-Request-Id` and put on every log line written while serving it;
 * - each answer is counted (coexist_http_requests_total, duration) and, for POST /webhooks/meta,
 *   classified by its status (coexist_webhook_requests_total).
 */
export function requestContext(log: Logger): RequestHandler {
  return (req, res, next) => {
    const given = req.get(REQUEST_ID_HEADER);
    const requestId = given && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
    res.set(REQUEST_ID_HEADER, requestId);
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      // The pattern of the route that answered (no ids in labels); none for 404s and early refusals.
      const route = req.route?.path ? `${req.method} ${String(req.route.path)}` : 'unmatched';
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      httpRequests.inc({ route, status: String(res.statusCode) });
      httpRequestDuration.observe({ route }, seconds);
      if (route === 'POST /webhooks/meta') webhookRequests.inc({ outcome: webhookOutcome(res.statusCode) });
      // The route's pattern, not its path: paths name numbers and customers.
      const line = { requestId, method: req.method, route, status: res.statusCode, durationMs: Math.round(seconds * 1000) };
      if (res.statusCode >= 400) log.info(line, 'request answered');
      else log.debug(line, 'request answered');
    });
    logContext.run({ requestId }, next);
  };
}
