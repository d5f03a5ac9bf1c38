import { DEFAULT_STAGE_BUDGETS_MS, type Stage } from '../../machines/onboarding';

export type StageBudgets = Partial<Record<Stage, number>>;

/** The default budgets (derived from the machine's settings) under OPS_STAGE_BUDGETS. */
export function stageBudgets(overrides: Partial<Record<string, number>>): StageBudgets {
  return { ...DEFAULT_STAGE_BUDGETS_MS, ...(overrides as StageBudgets) };
}

/** Stages in which contacts and history are still to be requested: Meta's 24 h window matters there. */
const BEFORE_SYNC: readonly Stage[] = ['registration', 'blocked', 'sync'];
/** Ops see an onboarding as stuck this long before its sync deadline (24 h from FINISH) passes. */
export const SYNC_DEADLINE_WARNING_MS = 6 * 3_600_000;

/** Contacts and history not yet requested, and Meta's window closes within the warning (or has closed). */
export function syncDeadlineNear(stage: Stage, syncDeadline: Date | undefined, now: number): boolean {
  return syncDeadline !== undefined && BEFORE_SYNC.includes(stage) && syncDeadline.getTime() - now < SYNC_DEADLINE_WARNING_MS;
}

/**
 * Blocked is always stuck; a stage with a budget is stuck once it has lasted longer; any stage
 * before sync is stuck once Meta's sync deadline is near.
 */
export function isStuck(
  stage: Stage,
  enteredAt: Date | undefined,
  now: number,
  budgets: StageBudgets,
  syncDeadline?: Date,
): boolean {
  if (stage === 'blocked' || syncDeadlineNear(stage, syncDeadline, now)) return true;
  const budget = budgets[stage];
  return budget !== undefined && enteredAt !== undefined && now - enteredAt.getTime() > budget;
}

/** The visibility query clause for stuck (or not stuck) onboardings at `now`. */
export function stuckClause(stuck: boolean, now: number, budgets: StageBudgets): string {
  const budgeted = Object.entries(budgets) as [Stage, number][];
  const cutoff = (budget: number) => new Date(now - budget).toISOString();
  const deadline = new Date(now + SYNC_DEADLINE_WARNING_MS).toISOString();
  const beforeSync = `OnboardingStage IN (${BEFORE_SYNC.map((s) => `'${s}'`).join(', ')})`;
  const deadlineNear = `(${beforeSync} AND OnboardingSyncDeadline < '${deadline}')`;
  if (stuck) {
    return `(${["OnboardingStage = 'blocked'", deadlineNear, ...budgeted.map(([s, b]) => `(OnboardingStage = '${s}' AND OnboardingStageEnteredAt < '${cutoff(b)}')`)].join(' OR ')})`;
  }
  const unbudgeted = ['active', 'cancelled', 'offboarded'].filter((s) => !budgets[s as Stage]);
  const withinBudget = `(${[...unbudgeted.map((s) => `OnboardingStage = '${s}'`), ...budgeted.map(([s, b]) => `(OnboardingStage = '${s}' AND OnboardingStageEnteredAt >= '${cutoff(b)}')`)].join(' OR ')})`;
  return `(${withinBudget} AND (OnboardingSyncDeadline IS NULL OR OnboardingSyncDeadline >= '${deadline}' OR NOT ${beforeSync}))`;
}
