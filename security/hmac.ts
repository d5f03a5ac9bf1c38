import { createHmac } from 'node:crypto';

/** `sha256=<hex HMAC-SHA256 of the bytes>`: how Meta signs its webhooks and coexist its callbacks. */
export function sha256Signature(body: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
