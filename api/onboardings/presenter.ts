import { stageOf, statusCardOf } from '../../machines/onboarding';
import type { OnboardingMachineView } from './workflow';
import type { OnboardingView } from './schemas';
import type { HistorySummary } from '../../store/history-media';

/** What the store holds of a number's sync, read with the onboarding when its number is known. */
export interface SyncReceived {
  contactsReceived: { contacts: number; firstAt?: number };
  historyReceived: HistorySummary;
}

/** What the backend sees of an onboarding: never the sealed token. */
export function presentOnboarding(workflowId: string, view: OnboardingMachineView, received?: SyncReceived) {
  const c = view.context;
  return {
    id: workflowId,
    phoneNumber: c.phoneNumber,
    stage: stageOf(view),
    state: view.state,
    status: view.status,
    blocked: c.blocked ?? null,
    linking: {
      attempts: c.linkingAttempts,
      maxAttempts: c.settings.maxLinkingAttempts,
      method: c.linkingMethod,
      attemptTtlMs: c.settings.linkingAttemptTtlMs,
    },
    wabaId: c.wabaId ?? null,
    phoneNumberId: c.phoneNumberId ?? null,
    registration: c.registration,
    sync: {
      contacts: c.contactsSync,
      history: c.historySync,
      historyProgress: c.history,
      ...(received ?? {}),
    },
    payment: c.payment,
    statusCard: statusCardOf(c),
    warnings: c.warnings,
    offboarding: c.offboarding ?? null,
    lifecycleEvents: c.lifecycleEvents ?? [],
    timeline: view.timeline,
  } satisfies OnboardingView;
}
