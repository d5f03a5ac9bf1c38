/** A delivery's bytes as the inbox keeps them: its items and what was set aside, classified. */
import { isUtf8 } from 'node:buffer';
import type { CustomerDirectory } from '../../store/customers';
import { ApiError } from '../http/errors';
import { routeToCustomers } from './customer-routing';
import { readEnvelope } from './envelope';
import { inboxItems } from './inbox-items';
import { routeChanges } from './route-changes';

/**
 * Reads a signed delivery received at `receivedAt` (epoch ms). Bytes that are not UTF-8 are kept
 * whole and flagged, never decoded into U+FFFD; 400 only for a body that is not JSON at all. Each
 * conversation event goes to its customer's conversation, resolved in `customers`.
 */
export async function readDelivery(raw: Buffer, receivedAt: number, customers: Pick<CustomerDirectory, 'resolveCustomer'>) {
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
  routed.conversations = await routeToCustomers(customers, routed.conversations, receivedAt);
  return {
    items: inboxItems(routed),
    templates: routed.templates,
    contacts: routed.contacts,
    historyMedia: routed.historyMedia,
    unrouted: [...unrouted, ...routed.unrouted],
    changes: routed.changes,
  };
}
