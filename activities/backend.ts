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
  try {
    await postSigned(config.BACKEND_CALLBACK_URL, config.BACKEND_CALLBACK_SECRET, deliveryId, body);
  } catch (err) {
    throw ApplicationFailure.retryable(`backend callback: ${(err as Error).message}`, 'BackendCallbackError');
  }
  onboardingMilestones.inc({ kind: callback.kind });
}

/**
 * POSTs a callback body to the backend, signed, with its delivery id; resolves on 2xx, throws with
 * the reason otherwise (network, timeout, or the status answered).
 */
export async function postSigned(url: string, secret: string, deliveryId: string, body: string): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      [CALLBACK_SIGNATURE_HEADER]: signCallback(body, secret),
      [CALLBACK_DELIVERY_HEADER]: deliveryId,
    },
    body,
    signal: AbortSignal.timeout(CALLBACK_ATTEMPT_TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`the backend answered ${response.status}`);
}

const CALLBACK_ATTEMPT_TIMEOUT_MS = 10_000;
