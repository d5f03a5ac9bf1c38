/**
 * Generated paths, from XState's own graph (`xstate/graph`): each walk of ./path-models.ts is a
 * `getShortestPaths` over the machine from its input, offering in every snapshot the events the
 * walk lists there and telling snapshots apart only by what the walk serialises. In order of
 * length, each shortest path is played again on a fresh driver and every listed event is tried at
 * its end; the first path that takes a transition not yet covered is kept for it, and what its
 * replay took (states, transitions, effects) is covered. Walks run in turn until everything is
 * covered; whatever no path reaches stays missing, and the coverage tests fail.
 */
import type { AnyEventObject, AnyMachineSnapshot, AnyStateMachine } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { conversationMachine } from '../machines/conversation';
import { onboardingMachine } from '../machines/onboarding';
import { Coverage, transitionKey } from './coverage';
import { effectsOf } from './effects';
import { MachineDriver, microstepsOf } from './machine-driver';
import { conversationWalks, onboardingWalks, type Walk } from './path-models';

const walks = new Map<AnyStateMachine, Walk[]>([
  [onboardingMachine, onboardingWalks],
  [conversationMachine, conversationWalks],
]);

export interface GeneratedPath {
  /** The transition this path was kept for. */
  covers: string;
  /** The machine's input, then the events from its initial state. */
  input: unknown;
  events: AnyEventObject[];
}

export type GeneratedCoverage = Coverage & { paths: GeneratedPath[] };

/**
 * Coverage of `byScenarios` plus what generated paths reach. Every path kept was played from the
 * initial state on a fresh driver, and what it covers is what that replay took.
 */
export function coverByGeneratedPaths(machine: AnyStateMachine, byScenarios: Coverage): GeneratedCoverage {
  const machineWalks = walks.get(machine);
  if (!machineWalks) throw new Error(`no walks for machine ${machine.id}`);
  return coverByWalks(machine, machineWalks, byScenarios);
}

/** Coverage of `byScenarios` plus what the paths of these walks reach, walk by walk until complete. */
export function coverByWalks(machine: AnyStateMachine, machineWalks: readonly Walk[], byScenarios: Coverage): GeneratedCoverage {
  const coverage: GeneratedCoverage = Object.assign(new Coverage(byScenarios.model).merge(byScenarios), { paths: [] });
  for (const walk of machineWalks) {
    if (complete(coverage)) break;
    coverBy(machine, walk, coverage);
  }
  return coverage;
}

/** The shortest paths from one input, shortest first, each extended by every event its end lists. */
function coverBy(machine: AnyStateMachine, { input, events: eventsIn, serializeState }: Walk, coverage: GeneratedCoverage): void {
  const paths = getShortestPaths(machine, {
    input,
    events: (snapshot) => (snapshot.status === 'active' ? eventsIn(snapshot) : []),
    // A machine that finished (or failed) is one vertex: nothing follows.
    serializeState: (snapshot) => (snapshot.status === 'active' ? serializeState(snapshot) : snapshot.status),
  }).sort((a, b) => a.weight - b.weight);
  const failed = paths.find((path) => path.state.status === 'error');
  if (failed) throw new Error(`machine error after ${failed.steps.map((step) => step.event.type).join(' → ')}`);
  keep(input, [], recordReplay(machine, input, [], coverage), coverage);
  for (const path of paths) {
    if (complete(coverage)) return;
    // `steps[0]` is the initial snapshot; each later step is the snapshot an event led to.
    const events = path.steps.slice(1).map((step) => step.event as AnyEventObject);
    const end = replay(machine, input, events);
    if (end.status !== 'active') continue;
    for (const event of eventsIn(end)) {
      const fresh = microstepsOf(machine, end, event)
        .taken.map(transitionKey)
        .filter((key) => !coverage.transitions.has(key));
      if (fresh.length === 0) continue;
      const kept = [...events, event];
      const covered = recordReplay(machine, input, kept, coverage);
      for (const key of fresh)
        if (!covered.includes(key)) throw new Error(`generated path for ${key} does not take it when replayed`);
      keep(input, kept, covered, coverage);
    }
  }
}

function complete(c: Coverage): boolean {
  const m = c.missing();
  return m.states.length === 0 && m.transitions.length === 0;
}

function replay(machine: AnyStateMachine, input: unknown, events: AnyEventObject[]): AnyMachineSnapshot {
  const driver = new MachineDriver(machine, input);
  for (const event of events) driver.send(event);
  return driver.snapshot;
}

function keep(input: unknown, events: AnyEventObject[], covered: string[], coverage: GeneratedCoverage): void {
  for (const key of covered) coverage.paths.push({ covers: key, input, events });
}

/**
 * Plays the events on a fresh recording driver: the states, transitions and effects it took are
 * covered. Returns the transitions it covered first.
 */
function recordReplay(machine: AnyStateMachine, input: unknown, events: AnyEventObject[], coverage: Coverage): string[] {
  const covered: string[] = [];
  const driver = new MachineDriver(machine, input, {
    record: true,
    onStep: (step) => {
      for (const snapshot of step.microsteps) coverage.recordSnapshot(snapshot);
      for (const m of step.byMicrostep)
        for (const key of m.taken.map(transitionKey)) {
          if (!coverage.transitions.has(key)) covered.push(key);
          coverage.recordTransition(key);
          for (const e of effectsOf(m.actions)) coverage.recordEffect(key, e.name);
        }
    },
  });
  coverage.recordSnapshot(driver.snapshot);
  for (const event of events) driver.send(event);
  return covered;
}
