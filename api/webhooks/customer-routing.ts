/**
 * Routes each conversation event to its customer's conversation: the identifiers a payload carries
 * (phone, business-scoped user id, parent id, username) are linked in the number's customer
 * directory (store/customers.ts) and resolved to the customer's key, so that a payload naming the
 * customer only by user id (phone fields empty) reaches the conversation first known by phone, and
 * the other way round. Resolved in the order Meta listed the events; a `system` message that the
 * customer changed number or BSUID moves the new identifier to the customer it names.
 */
import { conversationWorkflowId } from '../../contracts/ids';
import type { CustomerDirectory, CustomerIds } from '../../store/customers';
import type { ConversationDelivery } from './conversation-changes';

export async function routeToCustomers(
  directory: Pick<CustomerDirectory, 'resolveCustomer' | 'recordIdentifierChange'>,
  deliveries: ConversationDelivery[],
  at: number,
): Promise<ConversationDelivery[]> {
  const resolved = new Map<string, string>();
  const out: ConversationDelivery[] = [];
  for (const delivery of deliveries) {
    const { phoneNumberId } = delivery.conversation;
    const memo = `${phoneNumberId}|${identity(delivery.customer)}`;
    let key = resolved.get(memo);
    if (key === undefined) {
      key = await directory.resolveCustomer(phoneNumberId, delivery.customer, at);
      resolved.set(memo, key);
    }
    if (delivery.changedTo) {
      await directory.recordIdentifierChange(phoneNumberId, key, delivery.changedTo, at);
      resolved.clear();
    }
    out.push(
      key === delivery.conversation.waId
        ? delivery
        : {
            ...delivery,
            workflowId: conversationWorkflowId(phoneNumberId, key),
            conversation: { ...delivery.conversation, waId: key },
          },
    );
  }
  return out;
}

const identity = (c: CustomerIds) => [c.waId, c.userId, c.parentUserId, c.username].map((v) => v ?? '').join('|');
