/**
 * An example request for every route, by operationId: its path parameters, query and body. The
 * docs page shows each with a curl command; test/unit/openapi-examples.test.ts checks that every
 * route has one and that each parses with the route's own schemas.
 */

export interface RouteExample {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
}

const phone = { phoneNumber: '+15550783881' };
const conversation = { phoneNumberId: '100000000000001', waId: '16505551234' };

export const EXAMPLES: Record<string, RouteExample> = {
  getLanding: {},
  getHealth: {},
  getOpsPage: {},
  getMetrics: {},
  getOpenApi: {},
  getDocs: {},
  startOnboarding: { body: { phoneNumber: '+15550783881', settings: { linkingMethod: 'qr' } } },
  getOnboarding: { params: phone },
  reportPrerequisites: {
    params: phone,
    body: { appVersion: '2.25.1', hasBusinessPortfolio: true, connectedElsewhere: false, hasPaymentMethod: true },
  },
  reportSignup: {
    params: phone,
    body: {
      event: 'FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING',
      code: 'AQD…the code from FB.login',
      data: { waba_id: '102290129340398', phone_number_id: '100000000000001' },
    },
  },
  sendOnboardingEvent: { params: phone, body: { type: 'qrScanned' } },
  sendMessage: {
    params: conversation,
    body: { clientMessageId: 'order-1042-confirmation', message: { type: 'text', text: { body: 'Your order has shipped.' } } },
  },
  getConversation: { params: conversation },
  listMessages: { params: conversation, query: { limit: '20', order: 'desc' } },
  getMessageRaw: { params: { ...conversation, messageId: 'wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUFERjE5QjVDQkI0NUE3OTk2AA==' } },
  listTemplates: { params: { phoneNumberId: conversation.phoneNumberId }, query: { status: 'APPROVED' } },
  refreshTemplates: { params: { phoneNumberId: conversation.phoneNumberId } },
  listContacts: { params: { phoneNumberId: conversation.phoneNumberId }, query: { search: 'pablo', limit: '50' } },
  listConversations: { params: { phoneNumberId: conversation.phoneNumberId }, query: { limit: '20', window: 'open' } },
  listOrphanStatuses: { params: conversation, query: { limit: '20' } },
  listParkedEffects: { query: { limit: '20' } },
  listOpsOnboardings: { query: { stuck: 'true', limit: '50' } },
  getOpsOverview: {},
  getOpsWebhooks: {},
  inspectOnboarding: { params: phone },
  repairOnboarding: { params: phone, body: { action: 'reset', to: 'linking' } },
  listQuarantine: { query: { classification: 'no_workflow:', limit: '50' } },
  inspectQuarantine: { params: { id: '42' } },
  replayQuarantine: { body: { ids: ['42'] } },
  encodePayloads: { body: { payloads: [{ metadata: { encoding: 'anNvbi9wbGFpbg==' }, data: 'eyJoZWxsbyI6IndvcmxkIn0=' }] } },
  decodePayloads: {
    body: {
      payloads: [{ metadata: { encoding: 'YmluYXJ5L2VuY3J5cHRlZA==', 'encryption-key-id': 'MjAyNi0xMg==' }, data: 'AAECAw==' }],
    },
  },
  verifyMetaWebhook: {
    query: { 'hub.mode': 'subscribe', 'hub.verify_token': 'your-verify-token', 'hub.challenge': '1158201444' },
  },
  receiveMetaWebhook: {
    body: {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '102290129340398',
          time: 1764842400,
          changes: [
            {
              field: 'account_update',
              value: {
                event: 'PARTNER_REMOVED',
                phone_number: '15550783881',
                disconnection_info: { reason: 'PRIMARY_INACTIVITY' },
              },
            },
          ],
        },
      ],
    },
  },
};

/** A delivery as `getMessageRaw` returns it: Meta's bytes for a customer's text (headers say where the message is). */
export const RAW_DELIVERY_EXAMPLE = {
  object: 'whatsapp_business_account',
  entry: [
    {
      id: '102290129340398',
      changes: [
        {
          field: 'messages',
          value: {
            messaging_product: 'whatsapp',
            metadata: { display_phone_number: '15550783881', phone_number_id: conversation.phoneNumberId },
            contacts: [{ profile: { name: 'Sheena Nelson' }, wa_id: conversation.waId }],
            messages: [
              {
                from: conversation.waId,
                id: 'wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUFERjE5QjVDQkI0NUE3OTk2AA==',
                timestamp: '1764842400',
                type: 'text',
                text: { body: 'Is my order on its way?' },
              },
            ],
          },
        },
      ],
    },
  ],
};
