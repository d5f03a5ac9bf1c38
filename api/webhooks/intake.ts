/** A delivery's bytes as the inbox keeps them: its items and what was set aside, classified. */
import { isUtf8 } from 'node:buffer';
import { isNumberRefusal } from '../../store/inbox';
import type { CustomerDirectory } from '../../store/customers';
import type { NumberRegistry } from '../../store/number-registry';
import { ApiError } from '../http/errors';
import { routeToCustomers } from './customer-routing';
import { readEnvelope } from './envelope';
import { inboxItems } from './inbox-items';
import { numberCheck } from './number-check';
import { routeChanges } from './route-changes';

/**
 * Reads a signed delivery received at `receivedAt` (epoch ms), routing the changes that name a
 * number by the number registry, and each conversation event to its customer's conversation,
 * resolved in the customer directory. Bytes that are not UTF-8 are kept whole and flagged, never
 * decoded into U+FFFD; 400 only for a body that is not JSON at all.
 */
export async function readDelivery(
  raw: Buffer,
  receivedAt: number,
  store: { numbers: Pick<NumberRegistry, 'wabasOf'> } & Pick<CustomerDirectory, 'resolveCustomer' | 'recordIdentifierChange'>,
) {
  if (!isUtf8(raw))
    return {
      items: [],
      templates: [],
      contacts: [],
      historyMedia: [],
      unrouted: ['body:invalid_utf8'],
      refused: [],
      changes: [],
    };
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ApiError(400, 'invalid_json', 'the body is not valid JSON', 'body');
  }
  const { envelope, unrouted } = readEnvelope(json);
  const routed = routeChanges(envelope, receivedAt, await numberCheck(store.numbers, envelope));
  routed.conversations = await routeToCustomers(store, routed.conversations, receivedAt);
  return {
    items: inboxItems(routed),
    templates: routed.templates,
    contacts: routed.contacts,
    historyMedia: routed.historyMedia,
    unrouted: [...unrouted, ...routed.unrouted],
    /** What the registry refused (`unknown_number:<id>`, `foreign_number:<id>`): a replay may route it. */
    refused: routed.unrouted.filter(isNumberRefusal),
    changes: routed.changes,
  };
}
