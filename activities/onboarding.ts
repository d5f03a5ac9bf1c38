import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type {
  CheckPaymentMethodInput,
  CheckPaymentMethodOutput,
  CheckRegistrationInput,
  CheckRegistrationOutput,
  ExchangeSignupCodeInput,
  ExchangeSignupCodeOutput,
  FetchStatusCardInput,
  FetchStatusCardOutput,
  LookupPhoneNumberInput,
  LookupPhoneNumberOutput,
  NotifyBackendParams,
  OnboardingEffects,
  RequestSyncInput,
  RequestSyncOutput,
  StartLinkingAttemptParams,
  SubscribeAppInput,
} from '../machines/onboarding';
import { PAYMENT_HEALTH_ERROR_CODE } from '../machines/meta-codes';
import { deliverCallback } from './backend';
import { GraphClient } from './meta/graph-client';
import { sealToken, unsealToken } from './token-vault';

/**
 * The onboarding machine's actions and actors, by name. Tokens only cross the workflow boundary
 * sealed; they are unsealed here, just before the call that needs them.
 */
export function createOnboardingActivities(config: Config, log: Logger) {
  const graph = new GraphClient({
    baseUrl: config.META_GRAPH_BASE_URL,
    apiVersion: config.META_GRAPH_API_VERSION,
    appId: config.META_APP_ID,
    appSecret: config.META_APP_SECRET,
  });
  const token = (sealed: string) => unsealToken(sealed, config.TOKEN_SEALING_KEY);

  return {
    async exchangeSignupCode({ code }: ExchangeSignupCodeInput): Promise<ExchangeSignupCodeOutput> {
      const { accessToken } = await graph.exchangeCode(code);
      return { sealedToken: sealToken(accessToken, config.TOKEN_SEALING_KEY) };
    },

    async lookupPhoneNumber(input: LookupPhoneNumberInput): Promise<LookupPhoneNumberOutput> {
      return lookup(graph, input, token(input.sealedToken));
    },

    async subscribeApp({ wabaId, sealedToken }: SubscribeAppInput): Promise<void> {
      await graph.subscribeApp(wabaId, token(sealedToken));
    },

    async checkRegistration({ phoneNumberId, sealedToken }: CheckRegistrationInput): Promise<CheckRegistrationOutput> {
      const n = await graph.getPhoneNumber(phoneNumberId, token(sealedToken), ['is_on_biz_app', 'platform_type', 'status']);
      return { isOnBizApp: n.is_on_biz_app === true, platformType: n.platform_type ?? 'NOT_APPLICABLE', status: n.status };
    },

    async requestSync({ phoneNumberId, syncType, sealedToken }: RequestSyncInput): Promise<RequestSyncOutput> {
      return graph.requestSync(phoneNumberId, token(sealedToken), syncType);
    },

    async checkPaymentMethod({ wabaId, sealedToken }: CheckPaymentMethodInput): Promise<CheckPaymentMethodOutput> {
      const { health_status: health } = await graph.getWabaHealth(wabaId, token(sealedToken));
      const errorCodes = (health?.entities ?? []).flatMap((e) => (e.errors ?? []).map((x) => x.error_code));
      return {
        canSendMessage: health?.can_send_message ?? 'AVAILABLE',
        paymentMissing: errorCodes.includes(PAYMENT_HEALTH_ERROR_CODE),
        errorCodes,
      };
    },

    async fetchStatusCard({ phoneNumberId, sealedToken }: FetchStatusCardInput): Promise<FetchStatusCardOutput> {
      const n = await graph.getPhoneNumber(phoneNumberId, token(sealedToken), [
        'verified_name',
        'name_status',
        'quality_rating',
        'whatsapp_business_manager_messaging_limit',
        'throughput',
        'status',
        'health_status',
        'is_on_biz_app',
        'platform_type',
      ]);
      return {
        displayName: n.verified_name,
        nameStatus: n.name_status,
        qualityRating: n.quality_rating,
        messagingLimitTier: n.whatsapp_business_manager_messaging_limit,
        throughput: n.throughput?.level,
        status: n.status,
        canSendMessage: n.health_status?.can_send_message,
        isOnBizApp: n.is_on_biz_app,
        platformType: n.platform_type,
        readAt: Date.now(),
      };
    },

    /**
     * Legacy flow only (onboardings started before the signup session): Meta has no API to refresh
     * a QR: the backend shows the refresh prompt and a new countdown. Against the simulator, the
     * simulated hosted flow also issues a new QR / code.
     */
    async startLinkingAttempt(params: StartLinkingAttemptParams): Promise<void> {
      if (config.SIMULATOR_ENABLED) await issueSimulatedLinkingCode(config.META_GRAPH_BASE_URL, params);
      await deliverCallback(config, log, { kind: 'linkingAttempt', ...params });
    },

    async notifyBackend(params: NotifyBackendParams): Promise<void> {
      await deliverCallback(config, log, params);
    },
  } satisfies OnboardingEffects;
}

/**
 * The WABA's number for this onboarding: only the number the backend started (by its digits; an id
 * from Embedded Signup must be that same number). A WABA that does not list it answers `found:
 * false` with what it lists: never another number's id, which would run +A's onboarding on +B.
 */
async function lookup(graph: GraphClient, input: LookupPhoneNumberInput, accessToken: string): Promise<LookupPhoneNumberOutput> {
  const numbers = await graph.listPhoneNumbers(input.wabaId, accessToken);
  const digits = (n: string) => n.replace(/\D/g, '');
  const match = numbers.find(
    (n) =>
      digits(n.display_phone_number) === digits(input.phoneNumber) &&
      (input.phoneNumberId === undefined || n.id === input.phoneNumberId),
  );
  if (!match) return { found: false, listed: numbers.map((n) => n.display_phone_number) };
  return {
    phoneNumberId: match.id,
    displayPhoneNumber: match.display_phone_number,
    isOnBizApp: match.is_on_biz_app === true,
    ...(match.platform_type ? { platformType: match.platform_type } : {}),
  };
}

async function issueSimulatedLinkingCode(baseUrl: string, params: StartLinkingAttemptParams): Promise<void> {
  const response = await fetch(`${baseUrl}/_sim/linking/${encodeURIComponent(params.phoneNumber)}/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ method: params.method, ttlMs: params.expiresInMs }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok)
    throw ApplicationFailure.retryable(`simulator refused a new linking code: ${response.status}`, 'SimulatorError');
}
