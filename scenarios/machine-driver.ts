/**
 * The one pure driver of a machine outside Temporal, shared by the unit tests and the scenarios'
 * machine target. It drives XState's pure `initialTransition` / `transition` and keeps what
 * workflows/interpreter.ts keeps: pending timers (delayed raises by id, cancelled by
 * `xstate.cancel`), running invocations (`xstate.spawnChild` / `xstate.stopChild`), and the custom
 * actions (the effects the workflow runs as activities) in emission order. It runs nothing: the
 * caller decides what an effect or an invocation does and when a timer fires.
 *
 * On request it also names the transitions each step took (microsteps included) and the states
 * it passed through, for model coverage, with XState's public `getMicrosteps`.
 */
import {
  getInitialMicrosteps,
  getMicrosteps,
  getStateNodes,
  initialTransition,
  transition,
  type AnyEventObject,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type AnyStateNode,
  type AnyTransitionDefinition,
  type EventObject,
} from 'xstate';

export interface Action {
  type: string;
  params?: unknown;
}

/** What XState's actions mean to the interpreter; everything else is an effect. */
const TIMER_ACTIONS = ['xstate.raise', 'xstate.cancel'] as const;
const INVOCATION_ACTIONS = ['xstate.spawnChild', 'xstate.stopChild'] as const;
/** XState actions the interpreter ignores. */
const IGNORED_ACTIONS = ['xstate.log', 'xstate.emit'] as const;
export const INTERPRETER_ACTIONS: readonly string[] = [...TIMER_ACTIONS, ...INVOCATION_ACTIONS, ...IGNORED_ACTIONS];

export interface Timer {
  event: EventObject;
  delay: number;
  /** `now()` when it was set, plus its delay. */
  dueAt: number;
}

export interface Invocation {
  src: string;
  input: unknown;
  startedAt: number;
}

/** One step: the event's transitions, as the machine took them. */
export interface DriverStep {
  event: AnyEventObject | undefined;
  snapshot: AnyMachineSnapshot;
  actions: Action[];
  /** Custom actions, in emission order. */
  effects: Action[];
  /** Invocations this step started, by id. */
  started: { id: string; src: string; input: unknown }[];
  /** Only when the driver records: the transitions taken and the snapshots of every microstep. */
  taken: AnyTransitionDefinition[];
  microsteps: AnyMachineSnapshot[];
  /** Only when the driver records: each microstep's transitions and the actions they emitted. */
  byMicrostep: MicrostepRecord[];
}

export interface MicrostepRecord {
  taken: AnyTransitionDefinition[];
  actions: Action[];
}

export interface MachineDriverOptions {
  /** The clock timers are set against (default: 0, delays only). */
  now?: () => number;
  /** Computes `taken` and `microsteps` for every step (model coverage). */
  record?: boolean;
  /** Called after every step, the initial one included. */
  onStep?: (step: DriverStep) => void;
}

export class MachineDriver<TSnapshot extends AnyMachineSnapshot = AnyMachineSnapshot> {
  snapshot: TSnapshot;
  readonly timers = new Map<string, Timer>();
  readonly invocations = new Map<string, Invocation>();
  /** The last step. */
  last: DriverStep;
  private timerSeq = 0;

  constructor(
    readonly machine: AnyStateMachine,
    input: unknown,
    private readonly options: MachineDriverOptions = {},
  ) {
    const [snapshot, actions] = initialTransition(machine, input as never) as unknown as [TSnapshot, Action[]];
    this.snapshot = snapshot;
    const recorded = options.record ? initialMicrosteps(machine, input) : undefined;
    this.last = this.apply(undefined, actions, recorded);
  }

  /** The machine takes the event (nothing happens once it is done or failed). */
  send(event: AnyEventObject): DriverStep {
    if (this.snapshot.status !== 'active') return (this.last = this.emptyStep(event));
    const before = this.snapshot;
    const [next, actions] = transition(this.machine, before, event as never) as unknown as [TSnapshot, Action[]];
    this.snapshot = next;
    const recorded = this.options.record ? microstepsOf(this.machine, before, event) : undefined;
    return (this.last = this.apply(event, actions, recorded));
  }

  can(event: AnyEventObject): boolean {
    return this.snapshot.status === 'active' && this.snapshot.can(event);
  }

  /** Takes the pending timer out and sends its event. */
  fire(id: string): DriverStep {
    const timer = this.timers.get(id);
    if (!timer) throw new Error(`no pending timer ${id}`);
    this.timers.delete(id);
    return this.send(timer.event);
  }

  /** `xstate.done.actor.<id>` for a running invocation. */
  done(id: string, output: unknown): DriverStep {
    this.invocations.delete(id);
    return this.send({ type: `xstate.done.actor.${id}`, output });
  }

  /** `xstate.error.actor.<id>` for a running invocation. */
  fail(id: string, error: unknown): DriverStep {
    this.invocations.delete(id);
    return this.send({ type: `xstate.error.actor.${id}`, error });
  }

  private apply(event: AnyEventObject | undefined, actions: Action[], recorded: Recorded | undefined): DriverStep {
    const step: DriverStep = {
      event,
      snapshot: this.snapshot,
      actions,
      effects: [],
      started: [],
      taken: recorded?.taken ?? [],
      microsteps: recorded?.microsteps ?? [],
      byMicrostep: recorded?.byMicrostep ?? [],
    };
    const now = this.options.now?.() ?? 0;
    for (const action of actions) {
      const p = action.params as Record<string, unknown> | undefined;
      switch (action.type) {
        case 'xstate.raise': {
          const { event: raised, delay, id } = p as { event: EventObject; delay?: number; id?: string };
          if (delay === undefined) throw new Error(`undelayed raise of ${raised.type} escaped the macrostep`);
          this.timers.set(id ?? `raise.${++this.timerSeq}`, { event: raised, delay, dueAt: now + delay });
          break;
        }
        case 'xstate.cancel':
          this.timers.delete((p as { sendId: string }).sendId);
          break;
        case 'xstate.spawnChild': {
          const { id, src, input } = p as { id: string; src: unknown; input?: unknown };
          if (typeof src !== 'string') throw new Error(`invoke '${id}' must name its actor by src`);
          this.invocations.set(id, { src, input, startedAt: now });
          step.started.push({ id, src, input });
          break;
        }
        case 'xstate.stopChild':
          this.invocations.delete((p as { id: string }).id);
          break;
        case 'xstate.log':
        case 'xstate.emit':
          break;
        default:
          if (action.type.startsWith('xstate.')) throw new Error(`${action.type} cannot run durably`);
          step.effects.push(action);
      }
    }
    this.options.onStep?.(step);
    return step;
  }

  private emptyStep(event: AnyEventObject): DriverStep {
    return { event, snapshot: this.snapshot, actions: [], effects: [], started: [], taken: [], microsteps: [], byMicrostep: [] };
  }
}

// --- what a step took, from XState's public microsteps --------------------------------------------

interface Recorded {
  taken: AnyTransitionDefinition[];
  microsteps: AnyMachineSnapshot[];
  byMicrostep: MicrostepRecord[];
}

/**
 * The transitions an event takes, the snapshots of its microsteps and what each emitted. The
 * event's own microstep takes what `machine.getTransitionData` selects (XState's own selection);
 * every later microstep is eventless (the machines raise no undelayed events) and is explained by
 * the `always` transition whose source it left for the targets it entered.
 */
export function microstepsOf(machine: AnyStateMachine, before: AnyMachineSnapshot, event: AnyEventObject): Recorded {
  return recorded(before, getMicrosteps(machine, before, event as never), (from) =>
    machine.getTransitionData(from as never, event as never),
  );
}

function initialMicrosteps(machine: AnyStateMachine, input: unknown): Recorded {
  const steps = getInitialMicrosteps(machine, input as never);
  // The first microstep enters the initial states: no transition of the model.
  const [first, ...rest] = steps;
  const after = recorded(first![0] as AnyMachineSnapshot, rest, () => []);
  return {
    taken: after.taken,
    microsteps: [first![0] as AnyMachineSnapshot, ...after.microsteps],
    byMicrostep: [{ taken: [], actions: first![1] as Action[] }, ...after.byMicrostep],
  };
}

function recorded(
  before: AnyMachineSnapshot,
  steps: [unknown, unknown[]][],
  first: (from: AnyMachineSnapshot) => AnyTransitionDefinition[],
): Recorded {
  const result: Recorded = { taken: [], microsteps: [], byMicrostep: [] };
  let previous = before;
  steps.forEach(([s, actions], i) => {
    const snapshot = s as AnyMachineSnapshot;
    const taken = i === 0 ? first(previous) : eventlessTaken(previous, snapshot, actions as Action[]);
    result.taken.push(...taken);
    result.microsteps.push(snapshot);
    result.byMicrostep.push({ taken, actions: actions as Action[] });
    previous = snapshot;
  });
  return result;
}

function eventlessTaken(from: AnyMachineSnapshot, to: AnyMachineSnapshot, emitted: Action[]): AnyTransitionDefinition[] {
  const left = activeNodes(from);
  const entered = new Set(activeNodes(to).map((n) => n.id));
  const taken = new Set<AnyTransitionDefinition>();
  for (const atomic of left.filter((n) => n.type === 'atomic' || n.type === 'final')) {
    if (entered.has(atomic.id)) continue;
    const chain: AnyStateNode[] = [];
    for (let n: AnyStateNode | undefined = atomic; n; n = n.parent) chain.push(n);
    const explains = chain
      .flatMap((n) => n.always ?? [])
      .filter((t) => (t.target?.length ?? 0) > 0 && t.target!.every((target: AnyStateNode) => entered.has(target.id)));
    if (explains.length > 1)
      throw new Error(`eventless microstep from ${atomic.id} is ambiguous: ${explains.length} always transitions fit`);
    if (explains[0]) taken.add(explains[0]);
  }
  if (taken.size > 0) return [...taken];
  // No state was left: a targetless `always` (actions only, guarded so it fires once) took the step.
  const targetless = [...new Set(left.flatMap((n) => n.always ?? []))].filter((t) => (t.target?.length ?? 0) === 0);
  if (targetless.length === 1) return targetless;
  // Several: the one whose own effects, their params read from the context after the step, are what the step emitted.
  const matching = targetless.filter((t) => sameEffects(t, to, emitted));
  if (matching.length === 1) return matching;
  throw new Error(
    `a microstep from ${JSON.stringify(from.value)} took no always transition that can be told apart (${targetless.length} targetless ones)`,
  );
}

/** State nodes active in a snapshot (XState's public `getStateNodes`). */
export function activeNodes(snapshot: AnyMachineSnapshot): AnyStateNode[] {
  return [...new Set([snapshot.machine.root, ...getStateNodes(snapshot.machine.root, snapshot.value)])];
}

/** Whether a transition's custom actions, with their params evaluated on `to`'s context, are the step's emitted effects. */
function sameEffects(t: AnyTransitionDefinition, to: AnyMachineSnapshot, emitted: Action[]): boolean {
  const custom = (a: unknown): a is { type: string; params?: unknown } =>
    typeof a === 'object' &&
    a !== null &&
    typeof (a as { type?: unknown }).type === 'string' &&
    !(a as { type: string }).type.startsWith('xstate.');
  try {
    const expected = (t.actions ?? []).filter(custom).map((a) => ({
      type: a.type,
      params: typeof a.params === 'function' ? a.params({ context: to.context, event: { type: '' } }) : a.params,
    }));
    const actual = emitted.filter(custom).map((a) => ({ type: a.type, params: a.params }));
    return JSON.stringify(expected) === JSON.stringify(actual);
  } catch {
    return false; // a params function that cannot read this context belongs to another transition
  }
}
