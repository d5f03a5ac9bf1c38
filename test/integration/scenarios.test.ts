/**
 * Every scenario file in test/scenarios/ plays twice: against the pure machines in this process
 * (no Temporal), then against the real workflows through the API and the simulator on Temporal
 * (the dev server; the time-skipping server for scenarios that move the clock). Both must pass
 * every expectation and agree on the stages the onboarding went through.
 *
 * The machine runs also measure model coverage; generated paths (scenarios/paths.ts) cover what
 * no scenario reaches, and the last test fails unless every state and transition is covered.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { conversationMachine } from '../../machines/conversation';
import { onboardingMachine } from '../../machines/onboarding';
import { Coverage, machineModel } from '../../scenarios/coverage';
import { httpTarget } from '../../scenarios/http-target';
import { loadScenario } from '../../scenarios/load';
import { startMachineTarget, type MachineTarget } from '../../scenarios/machine-target';
import { coverByGeneratedPaths } from '../../scenarios/paths';
import { playScenario, type Transcript } from '../../scenarios/runner';
import { API_KEY, startHarness, type Harness } from '../helpers/harness';

const dir = join(__dirname, '..', 'scenarios');
const scenarios = readdirSync(dir)
  .filter((f) => /\.(ya?ml|json)$/.test(f))
  .sort()
  .map((f) => loadScenario(join(dir, f)));
const movesClock = (s: (typeof scenarios)[number]) => s.steps.some((step) => step.do === 'advance');

const coverage = { onboarding: new Coverage(machineModel(onboardingMachine)), conversation: new Coverage(machineModel(conversationMachine)) };
const onMachine = new Map<string, Transcript>();
let machine: MachineTarget;
const harnesses: { dev?: Promise<Harness>; skipping?: Promise<Harness> } = {};

beforeAll(async () => {
  machine = await startMachineTarget({ coverage });
});

afterAll(async () => {
  await machine?.close();
  for (const h of Object.values(harnesses)) await (await h)?.stop();
});

function workflowTarget(h: Harness, skipping: boolean) {
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

test('the scenario files exist and name distinct numbers', () => {
  expect(scenarios.length).toBeGreaterThanOrEqual(10);
  expect(new Set(scenarios.map((s) => s.phone)).size).toBe(scenarios.length);
});

describe.each(scenarios.map((s) => [s.file, s] as const))('%s', (_file, scenario) => {
  test('on the machine', async () => {
    onMachine.set(scenario.file, await playScenario(scenario, machine, { expectTimeoutMs: 10_000 }));
  });

  test('on the workflow, agreeing with the machine', async () => {
    const skipping = movesClock(scenario);
    const key = skipping ? 'skipping' : 'dev';
    harnesses[key] ??= startHarness({ timeSkipping: skipping });
    const transcript = await playScenario(scenario, workflowTarget(await harnesses[key]!, skipping), { expectTimeoutMs: 60_000 });
    const machineTranscript = onMachine.get(scenario.file);
    expect(machineTranscript).toBeDefined();
    expect(transcript.stages).toEqual(machineTranscript!.stages);
    expect(transcript.finalStage).toBe(machineTranscript!.finalStage);
  });
});

test('every state and transition of both machines is covered (scenarios, then generated paths)', () => {
  const lines: string[] = [];
  for (const [name, machineDef] of [['onboarding', onboardingMachine], ['conversation', conversationMachine]] as const) {
    const byScenarios = coverage[name];
    lines.push(byScenarios.summary(`${name} by scenarios`));
    const total = coverByGeneratedPaths(machineDef, byScenarios);
    lines.push(total.summary(`${name} by scenarios + generated paths`));
    expect(total.missing()).toEqual({ states: [], transitions: [] });
  }
  console.log(lines.join('\n'));
});
