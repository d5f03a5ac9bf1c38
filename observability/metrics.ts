/**
 * coexist's Prometheus metrics: one prom-client registry per process. The API, the activities
 * and the Graph client record into it; the API serves it at `GET /metrics` (with the onboarding
 * gauges read from Temporal visibility, api/metrics/), and a worker running on its own
 * serves it on WORKER_METRICS_PORT beside Temporal's worker metrics (observability/worker-metrics.ts).
 *
 * Labels take values from closed sets only (outcomes, route patterns, Meta's endpoint names and
 * error codes), never ids or phone numbers, so that no label can grow without bound.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export const registry = new Registry();

export const WEBHOOK_OUTCOMES = ['accepted', 'rejected_signature', 'invalid', 'unavailable', 'failed'] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

export const webhookRequests = new Counter({
  name: 'coexist_webhook_requests_total',
  help: 'POST /webhooks/meta by answer: accepted (200: kept in the inbox), rejected_signature (401), invalid (other 4xx), unavailable (503: the API is shutting down, Meta redelivers), failed (other 5xx: the inbox could not keep it, Meta redelivers)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const webhookChanges = new Counter({
  name: 'coexist_webhook_changes_total',
  help: 'Changes of accepted webhooks by field; routed="true" when the change was addressed to a workflow, "false" when it was only classified and kept (unrouted_webhooks)',
  labelNames: ['field', 'routed'] as const,
  registers: [registry],
});

export const webhookDispatchLag = new Histogram({
  name: 'coexist_webhook_dispatch_lag_seconds',
  help: 'From a webhook delivery kept in the inbox (answered 200) to each of its items taken by its workflow',
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
  registers: [registry],
});

export const metaCalls = new Counter({
  name: 'coexist_meta_calls_total',
  help: 'Graph API calls by endpoint and result: code="ok", Meta\'s error code (HTTP status when Meta gave none), "unreachable" or "unexpected_response"',
  labelNames: ['endpoint', 'code'] as const,
  registers: [registry],
});

export const metaCallDuration = new Histogram({
  name: 'coexist_meta_call_duration_seconds',
  help: 'Graph API call time, from request to parsed answer or failure',
  labelNames: ['endpoint'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
  registers: [registry],
});

export const SEND_OUTCOMES = ['accepted', 'throttled', 'retry', 'refused', 'unconfirmed', 'error'] as const;

export const sends = new Counter({
  name: 'coexist_sends_total',
  help: 'sendMessage activity results by outcome (contracts/sender.ts SendOutcome); error: the activity threw',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const effectsParked = new Counter({
  name: 'coexist_effects_parked_total',
  help: 'Conversation effects set aside so that the events behind them go on (GET /ops/parked lists them), by action and reason: conflict (a different message under a known id) or failed (a failure retrying cannot fix, after a bounded number of attempts)',
  labelNames: ['action', 'reason'] as const,
  registers: [registry],
});

export const effectRetries = new Counter({
  name: 'coexist_effect_retries_total',
  help: 'Failed attempts of conversation effects that will be retried, by action and kind: transient (store or Temporal unreachable: retried with backoff until it works) or permanent (retried a few times, then parked)',
  labelNames: ['action', 'kind'] as const,
  registers: [registry],
});

export const onboardingMilestones = new Counter({
  name: 'coexist_onboarding_milestones_total',
  help: 'Onboarding transitions the backend is told of (linkingAttempt, linkingLapsed, blocked, paymentRequired, active, offboarded, syncFailed, historyOutcome, sendingState), counted when the notice is delivered',
  labelNames: ['kind'] as const,
  registers: [registry],
});

export const onboardingStageTransitions = new Counter({
  name: 'coexist_onboarding_stage_transitions_total',
  help: 'Onboardings that left stage `from` ("none": just started) for stage `to`: entered per stage is the sum by `to`, left the sum by `from`',
  labelNames: ['from', 'to'] as const,
  registers: [registry],
});

export const httpRequests = new Counter({
  name: 'coexist_http_requests_total',
  help: 'API requests by route ("METHOD /pattern"; "unmatched" when no route took it: 404s and refusals by auth before a route) and status',
  labelNames: ['route', 'status'] as const,
  registers: [registry],
});

export const httpRequestDuration = new Histogram({
  name: 'coexist_http_request_duration_seconds',
  help: 'API request time until the answer was sent, by route',
  labelNames: ['route'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

// Known outcomes show as 0 before they first happen, so rates and alerts see them from the start.
for (const outcome of WEBHOOK_OUTCOMES) webhookRequests.inc({ outcome }, 0);
for (const outcome of SEND_OUTCOMES) sends.inc({ outcome }, 0);

let processMetrics = false;
/** Node's process metrics (CPU, memory, event loop lag, GC) in the registry; once per process. */
export function collectProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: registry });
}

/** Meta's webhook fields are lower-case words; anything else is counted as `other`. */
export function countWebhookChanges(changes: { field: string; routed: boolean }[]): void {
  for (const { field, routed } of changes) {
    webhookChanges.inc({ field: /^[a-z0-9_]{1,64}$/.test(field) ? field : 'other', routed: String(routed) });
  }
}

export function webhookOutcome(status: number): WebhookOutcome {
  if (status >= 200 && status < 300) return 'accepted';
  if (status === 401) return 'rejected_signature';
  if (status === 503) return 'unavailable';
  return status < 500 ? 'invalid' : 'failed';
}
