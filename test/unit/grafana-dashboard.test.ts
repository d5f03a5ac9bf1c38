/**
 * The Grafana dashboard (deploy/grafana/coexist.json) reads only metrics coexist exports, so a
 * renamed metric cannot leave a panel silently empty: every metric name in its queries is one of
 * the process registry's, the onboarding gauges' or the stage budgets'.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { onboardingGauges, stageBudgetGauge } from '../../api/metrics/onboarding-gauges';
import { registry } from '../../observability/metrics';

const dashboard = JSON.parse(readFileSync(join(__dirname, '..', '..', 'deploy', 'grafana', 'coexist.json'), 'utf8'));
const queries: string[] = (dashboard.panels as { targets?: { expr: string }[] }[]).flatMap((p) =>
  (p.targets ?? []).map((t) => t.expr),
);
const PROMQL_WORDS = new Set([
  'sum',
  'by',
  'rate',
  'increase',
  'histogram_quantile',
  'max',
  'le',
  'stage',
  'to',
  'from',
  'outcome',
  'reason',
  'action',
  'kind',
]);

test('every metric the dashboard queries is one coexist exports', async () => {
  const gauges = onboardingGauges({} as never, 0, {} as never);
  const exported = new Set(
    [
      ...(await registry.getMetricsAsJSON()),
      ...(await gauges.registry.getMetricsAsJSON()),
      ...(await stageBudgetGauge({}).getMetricsAsJSON()),
    ].map((m) => m.name),
  );
  const named = new Set(
    queries.flatMap((q) =>
      (q.replace(/"[^"]*"/g, '').match(/[a-z_]+(?=\s*[{[(]|\s*\)|\s*$|\s*>)/g) ?? []).filter((w) => !PROMQL_WORDS.has(w)),
    ),
  );
  expect(named.size).toBeGreaterThan(4);
  expect([...named].filter((name) => !exported.has(name))).toEqual([]);
});

test('the funnel, time in stage against budget, and the flow are all there', () => {
  const all = queries.join('\n');
  expect(all).toMatch(/sum by \(stage\) \(coexist_onboardings\)/);
  expect(all).toMatch(/increase\(coexist_onboarding_stage_transitions_total.*\[1d\]\)/);
  expect(all).toMatch(/coexist_onboarding_stage_budget_seconds/);
  expect(all).toMatch(/histogram_quantile\(0\.9, .*coexist_onboarding_stage_age_seconds_bucket/);
  expect(all).toMatch(/rate\(coexist_sends_total\[5m\]\)\) \* 60/);
  expect(all).toMatch(/rate\(coexist_webhook_requests_total\[5m\]\)\) \* 60/);
});
