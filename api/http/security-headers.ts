import helmet, { contentSecurityPolicy } from 'helmet';

type Directives = Record<string, string[]>;

/** What no answer of this service needs: no base, no forms, never framed. */
const NOTHING: Directives = { baseUri: ["'none'"], formAction: ["'none'"], frameAncestors: ["'none'"] };

/**
 * The standard security headers on every answer, from helmet: a content security policy that
 * allows nothing (the API answers JSON and text, nothing in them is to be run or loaded),
 * `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`,
 * `Strict-Transport-Security`, `Cross-Origin-Opener-Policy` and `Cross-Origin-Resource-Policy:
 * same-origin` (CORS requests, as the codec's from the Web UI, are not subject to it), and the rest
 * of helmet's defaults. A page widens the policy for itself with pagePolicy.
 */
export const securityHeaders = helmet({
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], ...NOTHING } },
  xFrameOptions: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
});

/** A page's content security policy: what it loads, on top of nothing else. */
export function pagePolicy(directives: Directives) {
  return contentSecurityPolicy({ useDefaults: false, directives: { defaultSrc: ["'none'"], ...NOTHING, ...directives } });
}
