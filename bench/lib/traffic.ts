/**
 * The webhook traffic of benchmarks 1, 2 and 4: operation `i` is one signed `messages` webhook
 * carrying one customer text, for customer `i % customers` (so a conversation's messages are
 * spread over the run), each message id unique to the run.
 */
export interface TrafficSpec {
  /** Tells this run's messages and customers from another's on the same server. */
  run: string;
  phoneNumberId: string;
  wabaId: string;
  displayPhoneNumber: string;
  customers: number;
  messagesPerCustomer: number;
}

export const operations = (t: TrafficSpec) => t.customers * t.messagesPerCustomer;

/** A customer wa_id per run and index (digits only, 13 long). */
export function customerWaId(t: Pick<TrafficSpec, 'run'>, index: number): string {
  return `1${t.run.padStart(5, '0').slice(-5)}${String(index).padStart(7, '0')}`;
}

export function webhookBody(t: TrafficSpec, i: number): string {
  const customer = i % t.customers;
  const nth = Math.floor(i / t.customers);
  const waId = customerWaId(t, customer);
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: t.wabaId,
        time: Math.floor(Date.now() / 1000),
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: t.displayPhoneNumber, phone_number_id: t.phoneNumberId },
              contacts: [{ wa_id: waId, profile: { name: 'Bench' } }],
              messages: [
                {
                  from: waId,
                  id: `wamid.bench-${t.run}-${customer}-${nth}`,
                  timestamp: String(Math.floor(Date.now() / 1000)),
                  type: 'text',
                  text: { body: `message ${nth}` },
                },
              ],
            },
          },
        ],
      },
    ],
  });
}
