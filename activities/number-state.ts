import type { Client } from '@temporalio/client';
import { META_ID } from '../contracts/ids';
import { stateQuery, type MachineView } from '../contracts/machine-api';
import { graphErrorReason, SEND_REFUSALS } from '../machines/meta-codes';
import { BLOCKED_REASONS, SENDING_BLOCKS, type OnboardingContext, type SendingBlockReason } from '../machines/onboarding';
import type { MessageStore } from '../store/message-store';

/** What sending needs to know of a number: may it send, why not, and with which token. */
export interface NumberState {
  canSend: boolean;
  reason?: string;
  remedy?: string;
  onboardingWorkflowId?: string;
  sealedToken?: string;
}

/**
 * An onboarding found some other way than the number registry: onboardings started before they
 * wrote it (Temporal visibility and their state query), or a test's own lookup.
 */
export type CredentialsLookup = (
  phoneNumberId: string,
) => Promise<{ workflowId: string; sealedToken: string; sendingState?: OnboardingContext['sendingState'] } | undefined>;

/** A refusal that stops the number is trusted this long without the onboarding's own word on it. */
const STOP_TRUSTED_MS = 60_000;

const NOT_ONBOARDED = {
  canSend: false,
  reason: 'number_not_onboarded',
  remedy: 'No onboarding holds this phone number id yet: messages wait until the number is connected.',
} as const;

/**
 * The number's sending state: the number registry's entry (the onboarding's sending state), unless
 * a refusal that stops the number came after it; for onboardings that predate the registry, their
 * state query.
 */
export function numberStateLookup(store: MessageStore, credentials: CredentialsLookup) {
  return async (phoneNumberId: string): Promise<NumberState> => {
    const [entry, stopped] = await Promise.all([store.numbers.get(phoneNumberId), store.queue.stopped(phoneNumberId)]);
    let state: NumberState;
    if (entry) {
      state = {
        canSend: entry.canSend,
        ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
        ...(entry.remedy !== undefined ? { remedy: entry.remedy } : {}),
        onboardingWorkflowId: entry.onboardingWorkflowId,
        ...(entry.sealedToken !== undefined ? { sealedToken: entry.sealedToken } : {}),
      };
    } else {
      const found = await credentials(phoneNumberId);
      if (!found) return NOT_ONBOARDED;
      const sending = found.sendingState ?? { canSend: true };
      state = { ...sending, onboardingWorkflowId: found.workflowId, sealedToken: found.sealedToken };
    }
    if (stopped && Date.now() - stopped.at < STOP_TRUSTED_MS) {
      const reason = stopReason(stopped.code);
      return { ...state, canSend: false, reason, remedy: remedyOf(reason) };
    }
    if (state.canSend && !state.sealedToken)
      return { ...state, canSend: false, reason: 'status_unknown', remedy: remedyOf('status_unknown') };
    return state;
  };
}

/** The card's reason for a refusal that stops the number. */
export function stopReason(code: number): string {
  return SEND_REFUSALS.find((refusal) => refusal.code === code)?.reason ?? graphErrorReason(code);
}

function remedyOf(reason: string): string | undefined {
  if (reason in SENDING_BLOCKS) return SENDING_BLOCKS[reason as SendingBlockReason].remedy;
  if (reason in BLOCKED_REASONS) return (BLOCKED_REASONS as Record<string, { remedy?: string }>)[reason]?.remedy;
  return undefined;
}

/**
 * The running onboarding of a phone number id, its sealed business token and sending state, found
 * through visibility (search attribute PhoneNumberId) and the onboarding's state query; cached briefly.
 */
export function onboardingByVisibility(client: Client, ttlMs = 10_000): CredentialsLookup {
  type Found = Awaited<ReturnType<CredentialsLookup>>;
  const cache = new Map<string, { at: number; value: Found }>();
  return async (phoneNumberId: string) => {
    const hit = cache.get(phoneNumberId);
    if (hit && Date.now() - hit.at < ttlMs) return hit.value;
    if (!META_ID.test(phoneNumberId)) return undefined;
    let value: Found;
    for await (const execution of client.workflow.list({
      query: `PhoneNumberId = '${phoneNumberId}' AND ExecutionStatus = 'Running'`,
    })) {
      const view = (await client.workflow.getHandle(execution.workflowId).query(stateQuery)) as MachineView<OnboardingContext>;
      if (view.context.sealedToken) {
        value = {
          workflowId: execution.workflowId,
          sealedToken: view.context.sealedToken,
          sendingState: view.context.sendingState,
        };
      }
      break;
    }
    cache.set(phoneNumberId, { at: Date.now(), value });
    return value;
  };
}
