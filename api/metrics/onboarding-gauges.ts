import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { Gauge, Registry } from 'prom-client';
import { BLOCKED_REASONS, DEFAULT_STAGE_BUDGETS_MS, STAGES, WAITING_STAGES } from '../../machines/onboarding';

/** Age buckets (seconds): the default stage budgets, so each budget is a bucket's edge. */
export const STAGE_AGE_BUCKETS = [...new Set(Object.values(DEFAULT_STAGE_BUDGETS_MS).map((ms) => ms / 1000))].sort(
  (a, b) => a - b,
);
const RUNNING_ONBOARDINGS = "WorkflowType = 'onboardingWorkflow' AND ExecutionStatus = 'Running'";
/** Visibility count queries in flight at once during one refresh. */
const QUERY_CONCURRENCY = 8;
/** Under Prometheus's default scrape timeout (10 s), so a slow Temporal still leaves an answer. */
const VISIBILITY_DEADLINE_MS = 5_000;

/**
 * `coexist_onboardings{stage}`, `coexist_onboardings_blocked{reason}` and the age per stage, counted
 * by Temporal visibility (`client.workflow.count`) over running onboardings, on scrape. Reused for
 * `cacheMs` (concurrent scrapes share one refresh), since one refresh is tens of count queries.
 */
export function onboardingGauges(client: Client, cacheMs: number, log: Logger) {
  const gauges = new Registry();
  const byStage = new Gauge({
    name: 'coexist_onboardings',
    help: 'Running onboardings by stage (Temporal visibility, search attribute OnboardingStage)',
    labelNames: ['stage'] as const,
    registers: [gauges],
  });
  const blocked = new Gauge({
    name: 'coexist_onboardings_blocked',
    help: 'Running onboardings blocked, by reason (search attribute OnboardingBlockedReason)',
    labelNames: ['reason'] as const,
    registers: [gauges],
  });
  const age = new Gauge({
    name: 'coexist_onboarding_stage_age_seconds_bucket',
    help: 'Running onboardings in a stage that entered it at most `le` seconds ago (search attribute OnboardingStageEnteredAt), a gauge histogram: histogram_quantile() reads the time spent so far per stage',
    labelNames: ['stage', 'le'] as const,
    registers: [gauges],
  });
  const up = new Gauge({
    name: 'coexist_visibility_up',
    help: '1 when the onboarding gauges were read from Temporal visibility at the last refresh; 0 when that failed (they are then absent)',
    registers: [gauges],
  });
  const refreshedAt = new Gauge({
    name: 'coexist_visibility_refreshed_timestamp_seconds',
    help: 'When the onboarding gauges were last read from Temporal visibility',
    registers: [gauges],
  });

  const count = async (clause: string) => (await client.workflow.count(`${RUNNING_ONBOARDINGS} AND ${clause}`)).count;

  async function read(now: number) {
    const stages = await limited(STAGES.map((stage) => () => count(`OnboardingStage = '${stage}'`)));
    const inStage = new Map(STAGES.map((stage, i) => [stage, stages[i]!]));
    // Stages nobody waits in, and reasons when nobody is blocked, are 0 without asking.
    const ageQueries = WAITING_STAGES.filter((s) => inStage.get(s)! > 0).flatMap((stage) =>
      STAGE_AGE_BUCKETS.map((le) => ({
        stage,
        le,
        clause: `OnboardingStage = '${stage}' AND OnboardingStageEnteredAt >= '${new Date(now - le * 1000).toISOString()}'`,
      })),
    );
    const reasons = inStage.get('blocked')! > 0 ? Object.keys(BLOCKED_REASONS) : [];
    const [ages, reasonCounts] = await Promise.all([
      limited(ageQueries.map((q) => () => count(q.clause))),
      limited(reasons.map((reason) => () => count(`OnboardingStage = 'blocked' AND OnboardingBlockedReason = '${reason}'`))),
    ]);
    return {
      inStage,
      ages: new Map(ageQueries.map((q, i) => [`${q.stage}/${q.le}`, ages[i]!])),
      reasons: new Map(reasons.map((r, i) => [r, reasonCounts[i]!])),
    };
  }

  function apply({ inStage, ages, reasons }: Awaited<ReturnType<typeof read>>, now: number) {
    for (const [stage, n] of inStage) byStage.set({ stage }, n);
    for (const reason of Object.keys(BLOCKED_REASONS)) blocked.set({ reason }, reasons.get(reason) ?? 0);
    for (const stage of WAITING_STAGES) {
      for (const le of STAGE_AGE_BUCKETS) age.set({ stage, le: String(le) }, ages.get(`${stage}/${le}`) ?? 0);
      age.set({ stage, le: '+Inf' }, inStage.get(stage)!);
    }
    up.set(1);
    refreshedAt.set(now / 1000);
  }

  let last: { at: number; done: Promise<void> } | undefined;
  return {
    registry: gauges,
    refresh(): Promise<void> {
      const now = Date.now();
      if (last && now - last.at < cacheMs) return last.done;
      const done = client
        .withDeadline(now + VISIBILITY_DEADLINE_MS, () => read(now))
        .then(
          (snapshot) => apply(snapshot, now),
          (err: unknown) => {
            for (const gauge of [byStage, blocked, age]) gauge.reset();
            up.set(0);
            log.warn({ err }, 'metrics: onboarding gauges not read from Temporal visibility');
          },
        );
      last = { at: now, done };
      return done;
    },
  };
}

/** `coexist_onboarding_stage_budget_seconds{stage}`: the budgets ops read stuck against (OPS_STAGE_BUDGETS applied). */
export function stageBudgetGauge(budgets: Partial<Record<string, number>>): Registry {
  const registry = new Registry();
  const gauge = new Gauge({
    name: 'coexist_onboarding_stage_budget_seconds',
    help: 'How long an onboarding may stay in a stage before ops see it as stuck (defaults from the machine, OPS_STAGE_BUDGETS overrides)',
    labelNames: ['stage'] as const,
    registers: [registry],
  });
  for (const [stage, ms] of Object.entries(budgets)) if (ms !== undefined) gauge.set({ stage }, ms / 1000);
  return registry;
}

/** Runs the tasks, QUERY_CONCURRENCY at a time; results in the tasks' order. */
async function limited<T>(tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(QUERY_CONCURRENCY, tasks.length) }, lane));
  return results;
}
