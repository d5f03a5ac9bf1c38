/** A delivery's bytes as the inbox keeps them: its items and what was set aside, classified. */
import { isUtf8 } from 'node:buffer';
import { ApiError } from '../http/errors';
import { readEnvelope } from './envelope';
import { inboxItems } from './inbox-items';
import { routeChanges } from './route-changes';

/**
 * Reads a signed delivery received at `receivedAt` (epoch ms). Bytes that are not UTF-8 are kept
 * whole and flagged, never decoded into U+FFFD; 400 only for a body that is not JSON at all.
 */
export function readDelivery(raw: Buffer, receivedAt: number) {
  if (!isUtf8(raw))
    return { items: [], templates: [], contacts: [], historyMedia: [], unrouted: ['body:invalid_utf8'], changes: [] };
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ApiError(400, 'invalid_json', 'the body is not valid JSON', 'body');
  }
  const { envelope, unrouted } = readEnvelope(json);
  const routed = routeChanges(envelope, receivedAt);
  return {
    items: inboxItems(routed),
    templates: routed.templates,
    contacts: routed.contacts,
    historyMedia: routed.historyMedia,
    unrouted: [...unrouted, ...routed.unrouted],
    changes: routed.changes,
  };
}
