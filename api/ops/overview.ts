/**
 * The ops overview: the funnel (running onboardings per stage now, and entered / left per stage
 * over the last day), how long the running ones have been in their stage against its budget, and
 * sends and webhooks per minute. "Now" and the ages come from Temporal visibility; entered / left
 * and the rates from this process's counters (observability/metrics.ts), sampled each minute. With
 * `npm start` the worker runs in this process; with a worker of its own, its counters are on its
 * metrics endpoint and the Grafana dashboard (deploy/grafana/) reads them across processes.
 */
import type { Client } from '@temporalio/client';
import { STAGES, WAITING_STAGES, type Stage } from '../../machines/onboarding';
import { onboardingStageTransitions, sends, webhookRequests } from '../../observability/metrics';
import type { StageBudgets } from './stuck';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const RUNNING = "WorkflowType = 'onboardingWorkflow' AND ExecutionStatus = 'Running'";
/** Age bucket edges as fractions of a stage's budget: within it, and how far over it. */
const BUDGET_FRACTIONS = [0.25, 0.5, 1, 2, 4] as const;
/** Age bucket edges for a stage without a budget (blocked): a minute, an hour, a day, a week. */
const PLAIN_EDGES_MS = [MINUTE, 60 * MINUTE, DAY, 7 * DAY] as const;

interface Sample {
  at: number;
  sends: number;
  webhooks: number;
  /** `from>to` → count. */
  transitions: Map<string, number>;
}

async function sample(at: number): Promise<Sample> {
  const [s, w, t] = await Promise.all([sends.get(), webhookRequests.get(), onboardingStageTransitions.get()]);
  const sum = (values: { value: number }[]) => values.reduce((n, v) => n + v.value, 0);
  return {
    at,
    sends: sum(s.values),
    webhooks: sum(w.values),
    transitions: new Map(t.values.map((v) => [`${String(v.labels.from)}>${String(v.labels.to)}`, v.value])),
  };
}

/** One sampler per process (the counters are per process): a sample a minute, a day of them kept. */
let history: Sample[] | undefined;
function counterHistory(): Sample[] {
  if (!history) {
    const samples: Sample[] = [];
    history = samples;
    const take = () =>
      void sample(Date.now()).then((s) => {
        samples.push(s);
        samples.splice(0, Math.max(0, samples.length - (DAY / MINUTE + 1)));
      });
    take();
    setInterval(take, MINUTE).unref();
  }
  return history;
}

export interface AgeBucket {
  /** Upper edge in ms; null for the last, open bucket. */
  leMs: number | null;
  count: number;
  overBudget: boolean;
}

/** Bucket edges for a stage: fractions of its budget, or plain edges when it has none. */
function edgesFor(budgetMs: number | undefined): number[] {
  return budgetMs ? BUDGET_FRACTIONS.map((f) => Math.round(f * budgetMs)) : [...PLAIN_EDGES_MS];
}

/** Builds the overview on request; visibility reads are shared for `cacheMs`. */
export function opsOverview(client: Client, budgets: StageBudgets, cacheMs: number) {
  const samples = counterHistory();
  let cached: { at: number; done: ReturnType<typeof readVisibility> } | undefined;

  async function readVisibility(now: number) {
    const count = async (clause: string) => (await client.workflow.count(`${RUNNING} AND ${clause}`)).count;
    const inStage = await Promise.all(STAGES.map((stage) => count(`OnboardingStage = '${stage}'`)));
    const counts = new Map(STAGES.map((stage, i) => [stage, inStage[i]!]));
    const ages = await Promise.all(
      WAITING_STAGES.map(async (stage) => {
        const total = counts.get(stage)!;
        const edges = edgesFor(budgets[stage]);
        // Entered at most `le` ago: cumulative; none asked when the stage is empty.
        const within =
          total === 0
            ? edges.map(() => 0)
            : await Promise.all(
                edges.map((le) =>
                  count(`OnboardingStage = '${stage}' AND OnboardingStageEnteredAt >= '${new Date(now - le).toISOString()}'`),
                ),
              );
        const budget = budgets[stage];
        const buckets: AgeBucket[] = [...edges, null].map((leMs, i) => ({
          leMs,
          count: (i < edges.length ? within[i]! : total) - (i > 0 ? within[i - 1]! : 0),
          overBudget: budget !== undefined && (leMs === null || leMs > budget),
        }));
        return [stage, buckets] as const;
      }),
    );
    return { counts, ages: new Map<Stage, AgeBucket[]>(ages) };
  }

  return async function overview() {
    const now = Date.now();
    if (!cached || now - cached.at >= cacheMs) cached = { at: now, done: readVisibility(now) };
    const visibility = cached.done;
    const { counts, ages } = await visibility.catch((err: unknown) => {
      cached = undefined;
      throw err;
    });
    const current = await sample(now);
    const first = samples.find((s) => s.at >= now - DAY) ?? current;
    const since = (key: (s: Sample) => number) => key(current) - key(first);
    const entered = (stage: Stage) => sumTransitions(current, first, (_from, to) => to === stage);
    const left = (stage: Stage) => sumTransitions(current, first, (from) => from === stage);
    // Per minute: between consecutive samples, then from the last sample to now (the minute so far).
    const recent = [...samples.filter((s) => s.at >= now - 60 * MINUTE), current];
    const perMinute = recent.slice(1).map((s, i) => ({
      at: new Date(recent[i]!.at).toISOString(),
      sends: s.sends - recent[i]!.sends,
      webhooks: s.webhooks - recent[i]!.webhooks,
    }));
    return {
      at: new Date(now).toISOString(),
      counted: { from: new Date(first.at).toISOString(), to: new Date(now).toISOString() },
      stages: STAGES.map((stage) => ({
        stage,
        now: counts.get(stage)!,
        enteredLastDay: entered(stage),
        leftLastDay: left(stage),
        budgetMs: budgets[stage] ?? null,
        ages: ages.get(stage) ?? null,
      })),
      perMinute,
      totals: { sends: since((s) => s.sends), webhooks: since((s) => s.webhooks) },
    };
  };
}

function sumTransitions(current: Sample, first: Sample, match: (from: string, to: string) => boolean): number {
  let n = 0;
  for (const [key, value] of current.transitions) {
    const [from, to] = key.split('>') as [string, string];
    if (match(from, to)) n += value - (first.transitions.get(key) ?? 0);
  }
  return n;
}

export type OpsOverview = Awaited<ReturnType<ReturnType<typeof opsOverview>>>;
