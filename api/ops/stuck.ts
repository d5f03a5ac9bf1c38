import { DEFAULT_STAGE_BUDGETS_MS, type Stage } from '../../machines/onboarding';

export type StageBudgets = Partial<Record<Stage, number>>;

/** The default budgets (derived from the machine's settings) under OPS_STAGE_BUDGETS. */
export function stageBudgets(overrides: Partial<Record<string, number>>): StageBudgets {
  return { ...DEFAULT_STAGE_BUDGETS_MS, ...(overrides as StageBudgets) };
}

/** Blocked is always stuck; a stage with a budget is stuck once it has lasted longer. */
export function isStuck(stage: Stage, enteredAt: Date | undefined, now: number, budgets: StageBudgets): boolean {
  if (stage === 'blocked') return true;
  const budget = budgets[stage];
  return budget !== undefined && enteredAt !== undefined && now - enteredAt.getTime() > budget;
}

/** The visibility query clause for stuck (or not stuck) onboardings at `now`. */
export function stuckClause(stuck: boolean, now: number, budgets: StageBudgets): string {
  const budgeted = Object.entries(budgets) as [Stage, number][];
  const cutoff = (budget: number) => new Date(now - budget).toISOString();
  if (stuck) {
    return `(${["OnboardingStage = 'blocked'", ...budgeted.map(([s, b]) => `(OnboardingStage = '${s}' AND OnboardingStageEnteredAt < '${cutoff(b)}')`)].join(' OR ')})`;
  }
  const unbudgeted = ['active', 'cancelled', 'offboarded'].filter((s) => !budgets[s as Stage]);
  return `(${[...unbudgeted.map((s) => `OnboardingStage = '${s}'`), ...budgeted.map(([s, b]) => `(OnboardingStage = '${s}' AND OnboardingStageEnteredAt >= '${cutoff(b)}')`)].join(' OR ')})`;
}
