import { onboardingMachine, stageOf, statusCardOf } from '../../machines/onboarding';
import { BLOCKED_REASONS, remedyFor, waitOf, type BlockedReason } from '../../machines/onboarding';
import { acceptedActions } from './events';
import { machineDiagram } from './diagram';
import type { OpsList } from './schemas';
import { isStuck, syncDeadlineNear, type StageBudgets } from './stuck';
import type { Inspection, OnboardingAttributes } from './workflow';

/** One line of the ops list, from the search attributes alone. */
export function presentRow(id: string, a: OnboardingAttributes, now: number, budgets: StageBudgets) {
  const stage = a.stage ?? 'prerequisites';
  return {
    id,
    phoneNumber: a.phoneNumber ?? null,
    wabaId: a.wabaId ?? null,
    stage,
    since: a.enteredAt?.toISOString() ?? null,
    ageMs: a.enteredAt ? now - a.enteredAt.getTime() : null,
    budgetMs: budgets[stage] ?? null,
    stuck: isStuck(stage, a.enteredAt, now, budgets, a.syncDeadline),
    blockedReason: a.blockedReason ?? null,
    remedy: a.blockedReason && a.blockedReason in BLOCKED_REASONS ? remedyFor(a.blockedReason as BlockedReason) : null,
    linkingAttempts: a.linkingAttempts ?? 0,
    syncDeadline: a.syncDeadline?.toISOString() ?? null,
    syncDeadlineNear: syncDeadlineNear(stage, a.syncDeadline, now),
    waitingFor: waitOf(stage, a.blockedReason),
  } satisfies OpsList['onboardings'][number];
}

/**
 * Everything an operator needs about one onboarding: the row, what it waits for and the repairs its
 * state accepts (both asked of the machine), the machine's view (token redacted) and its diagram.
 */
export function presentInspection(
  workflowId: string,
  { view, attributes, activities }: Inspection,
  now: number,
  budgets: StageBudgets,
) {
  const { sealedToken: _sealed, ...context } = view.context;
  return {
    ...presentRow(workflowId, attributes, now, budgets),
    stage: stageOf(view),
    state: view.state,
    status: view.status,
    stateValue: view.value,
    blocked: view.context.blocked ?? null,
    waitingFor: waitOf(view.state, view.context.blocked?.reason),
    actions: acceptedActions(view, now),
    statusCard: statusCardOf(view.context),
    context: { ...context, ...(_sealed ? { sealedToken: '[redacted]' } : {}) },
    timeline: view.timeline,
    pendingTimers: view.pendingTimers,
    activities,
    effectFailures: view.effectFailures,
    machine: machineDiagram(onboardingMachine),
  };
}

/** The inspection as the code builds it; test/integration/openapi.test.ts checks it against OpsOnboardingView. */
export type OpsOnboarding = ReturnType<typeof presentInspection>;
