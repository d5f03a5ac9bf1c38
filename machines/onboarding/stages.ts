import type { StateValue } from 'xstate';
import { DEFAULT_ONBOARDING_SETTINGS, type OnboardingSettings } from './settings';

/** Stages that can block, and that ops may `reset` a blocked onboarding to. */
export const BLOCKABLE_STAGES = ['prerequisites', 'signup', 'linking', 'registration'] as const;

/** The onboarding's top-level states, in the order a number goes through them, then where it can end up. */
export const STAGES = [...BLOCKABLE_STAGES, 'sync', 'payment', 'active', 'blocked', 'cancelled', 'offboarded'] as const;

export type Stage = (typeof STAGES)[number];
export type BlockableStage = (typeof BLOCKABLE_STAGES)[number];

/** Stages an onboarding passes through on its way to active, each with a time budget for ops. */
export const BUDGETED_STAGES = [...BLOCKABLE_STAGES, 'sync', 'payment'] as const;
export type BudgetedStage = (typeof BUDGETED_STAGES)[number];

/** Stages that wait for something (a person, Meta, ops): their age distribution is worth reading. */
export const WAITING_STAGES = [...BUDGETED_STAGES, 'blocked'] as const satisfies readonly Stage[];

/** The stage of a snapshot (or of the interpreter's view): its top-level state, also its tag. */
export function stageOf(snapshot: { value: StateValue }): Stage {
  const value = snapshot.value;
  return (typeof value === 'string' ? value : Object.keys(value)[0]) as Stage;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * How long an onboarding may stay in a stage before ops see it as stuck (OPS_STAGE_BUDGETS
 * overrides). Where the machine keeps a clock of its own the budget is derived from it, so a
 * changed timing moves the budget too; stages paced by people have budgets of their own, which a
 * test holds at or above the machine's own bound.
 */
export function stageBudgetsFor(settings: OnboardingSettings): Record<BudgetedStage, number> {
  return {
    prerequisites: 24 * HOUR,
    signup: HOUR,
    // Every attempt lapses, counted from the signup session's start: the machine blocks with
    // qr_not_scanned at this age.
    linking: settings.maxLinkingAttempts * settings.linkingAttemptTtlMs,
    // The code exchange and lookup (seconds) and the confirmation, bounded by its deadline.
    registration: 3 * settings.registrationDeadlineMs,
    sync: 2 * HOUR,
    payment: 3 * 24 * HOUR,
  };
}

export const DEFAULT_STAGE_BUDGETS_MS = stageBudgetsFor(DEFAULT_ONBOARDING_SETTINGS);
