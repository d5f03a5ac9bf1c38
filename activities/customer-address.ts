import { WA_ID } from '../contracts/ids';
import type { CustomerDirectory } from '../store/customers';

/** Who a send is addressed to at Meta: a phone number (`to`) or a business-scoped user id (`recipient`). */
export type Recipient = { to: string } | { recipient: string };

/**
 * A conversation's customer as Meta's `/messages` takes them: `to` the phone number whenever it is
 * known (Meta's advice, and some messages, e.g. authentication templates, need it), else
 * `recipient` the BSUID (or parent BSUID) the customer is known by. A key that is a wa_id is the
 * phone itself: no lookup.
 */
export async function recipientOf(
  customers: Pick<CustomerDirectory, 'findCustomer'>,
  phoneNumberId: string,
  key: string,
): Promise<Recipient> {
  if (WA_ID.test(key)) return { to: key };
  const customer = await customers.findCustomer(phoneNumberId, key);
  if (customer?.waId) return { to: customer.waId };
  return { recipient: customer?.userId ?? customer?.parentUserId ?? key };
}
