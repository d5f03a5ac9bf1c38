/**
 * Generated paths (scenarios/paths.ts): the walks of XState's `getShortestPaths` over each machine
 * (scenarios/path-models.ts) reach every state node and every transition on their own, and every
 * path kept takes, when played again on a fresh driver, the transition it was kept for. The
 * scenario test (test/integration/scenarios.test.ts) adds them to what the scenarios covered.
 */
import type { AnyStateMachine } from 'xstate';
import { conversationMachine } from '../../machines/conversation';
import { onboardingMachine } from '../../machines/onboarding';
import { Coverage, machineModel, transitionKey } from '../../scenarios/coverage';
import { MachineDriver } from '../../scenarios/machine-driver';
import { onboardingWalks } from '../../scenarios/path-models';
import { coverByGeneratedPaths, coverByWalks, type GeneratedCoverage } from '../../scenarios/paths';

const machines = [
  ['onboarding', onboardingMachine],
  ['conversation', conversationMachine],
] as const;

const generated = new Map<AnyStateMachine, GeneratedCoverage>();
const coverageOf = (machine: AnyStateMachine) => {
  if (!generated.has(machine)) generated.set(machine, coverByGeneratedPaths(machine, new Coverage(machineModel(machine))));
  return generated.get(machine)!;
};

describe.each(machines)('%s', (_name, machine) => {
  test('generated paths alone cover every state node and every transition', () => {
    const coverage = coverageOf(machine);
    const model = machineModel(machine);
    expect(model.states.length).toBeGreaterThan(10);
    expect(model.transitions.length).toBeGreaterThan(20);
    expect(coverage.missing()).toEqual({ states: [], transitions: [] });
    // One path per transition, each kept for the transition it first took.
    expect(new Set(coverage.paths.map((p) => p.covers))).toEqual(new Set(model.transitions));
  });

  test('each kept path, played on a fresh driver, takes the transition it was kept for', () => {
    for (const path of coverageOf(machine).paths) {
      const driver = new MachineDriver(machine, path.input, { record: true });
      const taken = new Set(driver.last.taken.map(transitionKey));
      for (const event of path.events) for (const t of driver.send(event).taken) taken.add(transitionKey(t));
      expect({ covers: path.covers, taken: taken.has(path.covers) }).toEqual({ covers: path.covers, taken: true });
    }
  });
});

test('without the lifecycle walks, the lifecycle transitions stay missing (the walks decide the coverage)', () => {
  const withoutLifecycle = onboardingWalks.filter((w) => !w.name.endsWith('/lifecycle'));
  const coverage = coverByWalks(onboardingMachine, withoutLifecycle, new Coverage(machineModel(onboardingMachine)));
  const missing = coverage.missing().transitions;
  expect(missing.length).toBeGreaterThan(0);
  expect(missing.some((t) => t.includes(' on account.update'))).toBe(true);
});
