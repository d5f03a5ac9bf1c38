import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import { META_API_ERROR, type MetaErrorDetails } from '../../machines/interpreter-contract';
import { metaCallDuration, metaCalls } from '../../observability/metrics';
import { metaFailure, networkFailure, unexpectedResponse } from './errors';
import {
  accessTokenSchema,
  errorEnvelopeSchema,
  messageTemplatesSchema,
  phoneNumberSchema,
  phoneNumbersSchema,
  sendResponseSchema,
  successSchema,
  syncResponseSchema,
  wabaHealthSchema,
  type MessageTemplatePage,
  type OutboundMessage,
  type PhoneNumber,
  type PhoneNumberEntry,
  type PhoneNumberField,
} from './schemas';

export interface GraphClientOptions {
  baseUrl: string;
  apiVersion: string;
  appId: string;
  appSecret: string;
  timeoutMs?: number;
}

interface Call {
  /** Names the call in errors and logs: never an id, a token or the app secret. */
  endpoint: string;
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  token?: string;
}

/**
 * Meta's Graph API over HTTP. Every response is parsed by zod; every failure is a Temporal
 * ApplicationFailure carrying Meta's code, retryable or not by that code (./errors). No retries
 * here: they belong to Temporal, and some calls (smb_app_data) must never be repeated blindly.
 */
export class GraphClient {
  constructor(private readonly options: GraphClientOptions) {}

  async exchangeCode(code: string): Promise<{ accessToken: string }> {
    const res = await this.call(
      {
        endpoint: 'oauth/access_token',
        method: 'GET',
        path: 'oauth/access_token',
        query: { client_id: this.options.appId, client_secret: this.options.appSecret, code },
      },
      accessTokenSchema,
    );
    return { accessToken: res.access_token };
  }

  async listPhoneNumbers(wabaId: string, token: string): Promise<PhoneNumberEntry[]> {
    const res = await this.call(
      {
        endpoint: 'waba/phone_numbers',
        method: 'GET',
        path: `${wabaId}/phone_numbers`,
        query: { fields: 'id,display_phone_number,verified_name,status,is_on_biz_app,platform_type' },
        token,
      },
      phoneNumbersSchema,
    );
    return res.data;
  }

  /** One page of the WABA's templates; `after` is the previous page's cursor. */
  async listMessageTemplates(wabaId: string, token: string, after?: string): Promise<MessageTemplatePage> {
    return this.call(
      {
        endpoint: 'waba/message_templates',
        method: 'GET',
        path: `${wabaId}/message_templates`,
        query: { fields: 'id,name,language,status,category,rejected_reason', limit: '100', ...(after ? { after } : {}) },
        token,
      },
      messageTemplatesSchema,
    );
  }

  async subscribeApp(wabaId: string, token: string): Promise<void> {
    await this.call(
      { endpoint: 'waba/subscribed_apps', method: 'POST', path: `${wabaId}/subscribed_apps`, token },
      successSchema,
    );
  }

  async getPhoneNumber(phoneNumberId: string, token: string, fields: PhoneNumberField[]): Promise<PhoneNumber> {
    return this.call(
      { endpoint: 'phone_number', method: 'GET', path: phoneNumberId, query: { fields: fields.join(',') }, token },
      phoneNumberSchema,
    );
  }

  async getWabaHealth(wabaId: string, token: string) {
    return this.call(
      { endpoint: 'waba/health_status', method: 'GET', path: wabaId, query: { fields: 'health_status' }, token },
      wabaHealthSchema,
    );
  }

  /** Meta accepts one request of each type per onboarding: never call twice for a type. */
  async requestSync(
    phoneNumberId: string,
    token: string,
    syncType: 'smb_app_state_sync' | 'history',
  ): Promise<{ requestId: string }> {
    const res = await this.call(
      {
        endpoint: `smb_app_data/${syncType}`,
        method: 'POST',
        path: `${phoneNumberId}/smb_app_data`,
        body: { messaging_product: 'whatsapp', sync_type: syncType },
        token,
      },
      syncResponseSchema,
    );
    return { requestId: res.request_id };
  }

  async sendMessage(
    phoneNumberId: string,
    token: string,
    message: OutboundMessage,
  ): Promise<{ messageId: string; waId?: string }> {
    const res = await this.call(
      {
        endpoint: 'messages',
        method: 'POST',
        path: `${phoneNumberId}/messages`,
        body: { messaging_product: 'whatsapp', recipient_type: 'individual', ...message },
        token,
      },
      sendResponseSchema,
    );
    const waId = res.contacts[0]?.wa_id ?? message.to;
    return { messageId: res.messages[0]!.id, ...(waId !== undefined ? { waId } : {}) };
  }

  /** One call, counted in coexist_meta_calls_total and timed (observability/metrics.ts). */
  private async call<S extends z.ZodType>(call: Call, schema: S): Promise<z.infer<S>> {
    const stopTimer = metaCallDuration.startTimer({ endpoint: call.endpoint });
    try {
      const result = await this.request(call, schema);
      metaCalls.inc({ endpoint: call.endpoint, code: 'ok' });
      return result;
    } catch (err) {
      metaCalls.inc({ endpoint: call.endpoint, code: metaCallCode(err) });
      throw err;
    } finally {
      stopTimer();
    }
  }

  private async request<S extends z.ZodType>(call: Call, schema: S): Promise<z.infer<S>> {
    const url = new URL(`${this.options.baseUrl.replace(/\/$/, '')}/${this.options.apiVersion}/${call.path}`);
    for (const [k, v] of Object.entries(call.query ?? {})) url.searchParams.set(k, v);
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: call.method,
        headers: {
          ...(call.token ? { authorization: `Bearer ${call.token}` } : {}),
          ...(call.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: call.body !== undefined ? JSON.stringify(call.body) : undefined,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
      });
      text = await response.text();
    } catch (err) {
      throw networkFailure(call.endpoint, err);
    }
    const json = parseJson(text);
    if (!response.ok) {
      const envelope = errorEnvelopeSchema.safeParse(json);
      const retryAfter = Number(response.headers.get('retry-after'));
      throw metaFailure(
        call.endpoint,
        response.status,
        envelope.success ? envelope.data.error : undefined,
        retryAfter > 0 ? retryAfter * 1000 : undefined,
      );
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw unexpectedResponse(call.endpoint, parsed.error.issues[0]?.message ?? 'invalid');
    return parsed.data;
  }
}

/** Meta's error code (its HTTP status when it gave none), or how the call failed without one. */
function metaCallCode(err: unknown): string {
  if (!(err instanceof ApplicationFailure)) return 'error';
  if (err.type === META_API_ERROR) return String((err.details?.[0] as MetaErrorDetails | undefined)?.code ?? 'error');
  if (err.type === 'MetaUnreachable') return 'unreachable';
  if (err.type === 'MetaUnexpectedResponse') return 'unexpected_response';
  return 'error';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
