/**
 * Every scenario file in test/scenarios/ plays twice: against the pure machines in this process
 * (no Temporal), then against the real workflows through the API and the simulator on Temporal
 * (the dev server; the time-skipping server for scenarios that move the clock). Both must pass
 * every expectation and agree on the stages the onboarding went through.
 *
 * The machine runs also measure model coverage; generated paths (scenarios/paths.ts) cover what
 * no scenario reaches, and the last test fails unless every state and transition is covered. It
 * also prints, for each covered transition, which of its effects (custom actions, notices by
 * kind, actors started) a scenario expectation checks, and the transitions whose effects none does.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { conversationMachine } from '../../machines/conversation';
import { onboardingMachine } from '../../machines/onboarding';
import { Coverage, machineModel } from '../../scenarios/coverage';
import { loadScenario } from '../../scenarios/load';
import { startMachineTarget, type MachineTarget } from '../../scenarios/machine-target';
import { coverByGeneratedPaths } from '../../scenarios/paths';
import { playScenario, type Transcript } from '../../scenarios/runner';
import { harnessPool } from '../helpers/scenario-targets';

const dir = join(__dirname, '..', 'scenarios');
const scenarios = readdirSync(dir)
  .filter((f) => /\.(ya?ml|json)$/.test(f))
  .sort()
  .map((f) => loadScenario(join(dir, f)));

const coverage = {
  onboarding: new Coverage(machineModel(onboardingMachine)),
  conversation: new Coverage(machineModel(conversationMachine)),
};
const onMachine = new Map<string, Transcript>();
let machine: MachineTarget;
const workflows = harnessPool();

beforeAll(async () => {
  machine = await startMachineTarget({ coverage });
});

afterAll(async () => {
  await machine?.close();
  await workflows.stop();
});

test('the scenario files exist and name distinct numbers', () => {
  expect(scenarios.length).toBeGreaterThanOrEqual(10);
  expect(new Set(scenarios.map((s) => s.phone)).size).toBe(scenarios.length);
});

describe.each(scenarios.map((s) => [s.file, s] as const))('%s', (_file, scenario) => {
  test('on the machine', async () => {
    onMachine.set(scenario.file, await playScenario(scenario, machine, { expectTimeoutMs: 10_000 }));
  });

  test('on the workflow, agreeing with the machine', async () => {
    const { target } = await workflows.targetFor(scenario);
    const transcript = await playScenario(scenario, target, { expectTimeoutMs: 60_000 });
    const machineTranscript = onMachine.get(scenario.file);
    expect(machineTranscript).toBeDefined();
    expect(transcript.stages).toEqual(machineTranscript!.stages);
    expect(transcript.finalStage).toBe(machineTranscript!.finalStage);
  });
});

// Last: the machine runs above have recorded what the scenarios reach.
describe('model coverage', () => {
  test('every state and transition of both machines is covered (scenarios, then generated paths)', () => {
    const lines: string[] = [];
    const checked = { onboarding: 0, conversation: 0 };
    for (const [name, machineDef] of [
      ['onboarding', onboardingMachine],
      ['conversation', conversationMachine],
    ] as const) {
      const byScenarios = coverage[name];
      lines.push(byScenarios.summary(`${name} by scenarios`));
      const total = coverByGeneratedPaths(machineDef, byScenarios);
      lines.push(`${total.summary(`${name} by scenarios + ${total.paths.length} generated paths`)}`);
      expect(total.missing()).toEqual({ states: [], transitions: [] });
      const effects = total.effectsReport();
      lines.push(`${name}: effects of each covered transition, ✓ where a scenario expectation checks it`, ...effects.lines);
      lines.push(
        `${name}: ${effects.unchecked.length} transitions whose effects no expectation checks:`,
        ...effects.unchecked.map((t) => `  ${t}`),
      );
      checked[name] = effects.lines.filter((l) => l.includes('✓')).length;
    }
    // The report is read from the scenarios' own expectations: each machine has transitions whose effects they check.
    expect(checked.onboarding).toBeGreaterThan(0);
    expect(checked.conversation).toBeGreaterThan(0);
    console.log(lines.join('\n'));
  });
});
