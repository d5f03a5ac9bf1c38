import { WA_ID } from '../contracts/ids';
import type { CustomerDirectory } from '../store/customers';

/** Who a send is addressed to at Meta: a phone number (`to`) or a business-scoped user id (`recipient`). */
export type Recipient = { to: string } | { recipient: string };

/**
 * A conversation's customer as Meta's `/messages` takes them: `to` the phone number whenever it is
 * known (Meta's advice, and some messages, e.g. authentication templates, need it), else
 * `recipient` the BSUID (or parent BSUID) the customer is known by; the newest of each, so a
 * customer who changed number or BSUID (Meta's `system` notice) gets the send at the new one.
 */
export async function recipientOf(
  customers: Pick<CustomerDirectory, 'findCustomer'>,
  phoneNumberId: string,
  key: string,
): Promise<Recipient> {
  const customer = await customers.findCustomer(phoneNumberId, key);
  if (customer?.waId) return { to: customer.waId };
  if (!customer && WA_ID.test(key)) return { to: key };
  return { recipient: customer?.userId ?? customer?.parentUserId ?? key };
}
