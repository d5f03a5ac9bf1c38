import { stageOf, statusCardOf } from '../../machines/onboarding';
import type { OnboardingMachineView } from './workflow';
import type { OnboardingView } from './schemas';

/** What the backend sees of an onboarding: never the sealed token. */
export function presentOnboarding(
  workflowId: string,
  view: OnboardingMachineView,
  contactsReceived?: { contacts: number; firstAt?: number },
) {
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
      ...(contactsReceived ? { contactsReceived } : {}),
    },
    payment: c.payment,
    statusCard: statusCardOf(c),
    warnings: c.warnings,
    offboarding: c.offboarding ?? null,
    lifecycleEvents: c.lifecycleEvents ?? [],
    timeline: view.timeline,
  } satisfies OnboardingView;
}
