import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { sha256Signature } from '../security/hmac';
import { onboardingMilestones } from '../observability/metrics';

/** A change the backend must act on, POSTed to BACKEND_CALLBACK_URL. */
export interface BackendCallback {
  kind: string;
  [field: string]: unknown;
}

export const CALLBACK_SIGNATURE_HEADER = 'x-coexist-signature';
export const CALLBACK_DELIVERY_HEADER = 'x-coexist-delivery-id';

export function signCallback(body: string | Buffer, secret: string): string {
  return sha256Signature(body, secret);
}

/**
 * Tells the backend of a change, signed with BACKEND_CALLBACK_SECRET. Any answer but 2xx throws,
 * so Temporal retries until the backend accepts; the delivery id (workflow id + activity id) is
 * the same on every retry, for the backend to deduplicate. Counted, once delivered, in
 * coexist_onboarding_milestones_total by kind.
 */
export async function deliverCallback(config: Config, log: Logger, callback: BackendCallback): Promise<void> {
  const info = Context.current().info;
  const workflowId = info.workflowExecution?.workflowId ?? 'standalone';
  const deliveryId = `${workflowId}/${info.activityId}`;
  const body = JSON.stringify({ ...callback, workflowId, deliveryId });
  if (!config.BACKEND_CALLBACK_URL) {
    log.info({ kind: callback.kind, workflowId }, 'backend callback (no BACKEND_CALLBACK_URL)');
    onboardingMilestones.inc({ kind: callback.kind });
    return;
  }
  let response: Response;
  try {
    response = await fetch(config.BACKEND_CALLBACK_URL, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [CALLBACK_SIGNATURE_HEADER]: signCallback(body, config.BACKEND_CALLBACK_SECRET),
        [CALLBACK_DELIVERY_HEADER]: deliveryId,
      },
      body,
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    throw ApplicationFailure.retryable(`backend callback failed: ${(err as Error).message}`, 'BackendCallbackError');
  }
  if (!response.ok) {
    throw ApplicationFailure.retryable(`backend callback answered ${response.status}`, 'BackendCallbackError');
  }
  onboardingMilestones.inc({ kind: callback.kind });
}
