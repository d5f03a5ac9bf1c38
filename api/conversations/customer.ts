/**
 * A conversation addressed by any of its customer's identifiers (phone number, BSUID, parent
 * BSUID): the customer directory (store/customers.ts) names the conversation's key.
 */
import { BSUID, WA_ID } from '../../contracts/ids';
import type { Customer, CustomerDirectory, CustomerIds } from '../../store/customers';
import type { CustomerView } from './schemas';

/** What an identifier in a path is: a phone number, a parent BSUID (`XX.ENT.…`) or a BSUID. */
export function identifierIds(identifier: string): CustomerIds {
  if (WA_ID.test(identifier)) return { waId: identifier };
  if (BSUID.test(identifier) && identifier.includes('.ENT.')) return { parentUserId: identifier };
  return { userId: identifier };
}

/** The customer `identifier` names, recorded when not known yet (a send starts its conversation). */
export async function customerToSendTo(
  customers: CustomerDirectory,
  phoneNumberId: string,
  identifier: string,
): Promise<Customer> {
  const known = await customers.findCustomer(phoneNumberId, identifier);
  if (known) return known;
  const key = await customers.resolveCustomer(phoneNumberId, identifierIds(identifier), Date.now());
  return (await customers.findCustomer(phoneNumberId, identifier)) ?? { key };
}

/** The key of the conversation `identifier` names, for reading: the identifier itself when no customer is known by it. */
export async function findConversationKey(
  customers: CustomerDirectory,
  phoneNumberId: string,
  identifier: string,
): Promise<string> {
  return (await customers.findCustomer(phoneNumberId, identifier))?.key ?? identifier;
}

/** The customer's identifiers as the API shows them; a conversation keyed by wa_id always shows it. */
export function presentCustomer(key: string, customer: Customer | undefined): CustomerView {
  const { key: _key, ...ids } = customer ?? { key };
  return { ...(WA_ID.test(key) ? { waId: key } : {}), ...ids };
}
