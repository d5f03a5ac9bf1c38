import { httpTarget } from '../../scenarios/http-target';
import { movesClock, type Scenario } from '../../scenarios/schema';
import { API_KEY, startHarness, type Harness } from './harness';

/** Scenarios that move the clock run on the time-skipping server; the others on the dev server. */
export { movesClock };

/** The real stack of a harness as a scenario target; on the time-skipping server events go as signals. */
export function workflowTarget(h: Harness, skipping: boolean) {
  const received = h.callbacks.received;
  return httpTarget({
    name: skipping ? 'workflow (time-skipping server)' : 'workflow (dev server)',
    apiUrl: h.apiUrl,
    apiKey: API_KEY,
    simulatorUrl: h.simulatorUrl,
    callbacks: async (phone) => received.filter((c) => c.phoneNumber === phone).map((c) => c.kind),
    ...(skipping
      ? {
          signals: { client: h.env.client, taskQueue: h.config.TEMPORAL_TASK_QUEUE, now: () => h.env.currentTimeMs() },
          advance: (ms: number) => h.env.sleep(ms),
        }
      : {}),
  });
}

/** One harness of each kind, started when first needed. */
export function harnessPool() {
  const harnesses: { dev?: Promise<Harness>; skipping?: Promise<Harness> } = {};
  return {
    async targetFor(scenario: Scenario) {
      const skipping = movesClock(scenario);
      const key = skipping ? 'skipping' : 'dev';
      harnesses[key] ??= startHarness({ timeSkipping: skipping });
      const h = await harnesses[key]!;
      return { harness: h, target: workflowTarget(h, skipping) };
    },
    async stop() {
      for (const h of Object.values(harnesses)) await (await h)?.stop();
    },
  };
}
