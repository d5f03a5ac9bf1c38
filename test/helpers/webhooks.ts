/** Meta's webhooks as tests post them: signed with the app secret, and the bodies as Meta writes them. */
import { signWebhook } from '../../api/webhooks/signature';
import type { Harness } from './harness';

/** The API's answer to a delivery it kept. */
export interface WebhookAnswer {
  received: number;
  queued: number;
  unrouted: string[];
}

/** Posts a delivery to the API as Meta does (the body's bytes as given, signed), expecting 200. */
export async function postSignedWebhook(h: Pick<Harness, 'apiUrl' | 'config'>, body: unknown): Promise<WebhookAnswer> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const response = await fetch(`${h.apiUrl}/webhooks/meta`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhook(raw, h.config.META_APP_SECRET) },
    body: raw,
  });
  expect(response.status).toBe(200);
  return (await response.json()) as WebhookAnswer;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

export interface BusinessNumber {
  wabaId: string;
  phoneNumberId: string;
  /** `display_phone_number`: digits, no `+`. */
  display: string;
}

/** A `messages` change of one business number: these messages from the customer `waId`, with their profile. */
export function customerMessagesEnvelope(number: BusinessNumber, waId: string, messages: unknown[], profileName = 'Pablo') {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: number.wabaId,
        time: nowSeconds(),
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: number.display, phone_number_id: number.phoneNumberId },
              contacts: [{ wa_id: waId, profile: { name: profileName } }],
              messages,
            },
          },
        ],
      },
    ],
  };
}

/** A customer's text message as Meta writes it (its `timestamp` a string of seconds). */
export const customerText = (waId: string, id: string, body: string) => ({
  from: waId,
  id,
  timestamp: String(nowSeconds()),
  type: 'text',
  text: { body },
});
