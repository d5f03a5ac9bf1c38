/**
 * A machine run in this process, for scenarios in machine mode: what workflows/interpreter.ts does
 * with Temporal, done with a virtual clock and plain async functions. Custom actions run one at a
 * time in emission order, invoked actors run concurrently and answer with `xstate.done.actor.<id>`
 * / `xstate.error.actor.<id>`, delayed raises wait for `fireTimersUntil`. No live XState actor is
 * created: the machine is driven by `initialTransition` / `transition`, as in the workflow.
 *
 * It also records every transition XState takes (microsteps included) for model coverage.
 */
import { ApplicationFailure } from '@temporalio/common';
import {
  createActor,
  type AnyEventObject,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type AnyTransitionDefinition,
  type EventObject,
} from 'xstate';
import type { InvocationError } from '../machines/interpreter-contract';
import { formatStateValue, type MachineEvent, type MachineView, type TimelineEntry } from '../contracts/machine-api';
import type { EffectFailedEvent } from '../workflows/interpreter';
import { transitionKey } from './coverage';

export type ActivityFunction = (input: unknown) => Promise<unknown>;

export interface MachineRuntimeOptions {
  machine: AnyStateMachine;
  input: unknown;
  /** The activities by action / actor name. */
  activities: Record<string, ActivityFunction>;
  /** Attempts of a retryable failure before the machine hears of it (the workflow's retry policy, by name). */
  maxAttempts: (name: string) => number;
  now: () => number;
  receivedAtField?: string;
  dedupeKey?: (event: MachineEvent) => string | undefined;
  /** Every transition taken, as `transitionKey` names it. */
  onTransitionTaken?: (key: string) => void;
  /** Every snapshot the machine reaches (for state coverage). */
  onSnapshot?: (snapshot: AnyMachineSnapshot) => void;
}

export class MachineRuntime {
  private snapshot: AnyMachineSnapshot;
  private readonly timers = new Map<string, { event: EventObject; dueAt: number }>();
  private readonly invocations = new Map<string, { src: string; startedAt: number; token: object }>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly seen = new Set<string>();
  private effectChain: Promise<void> = Promise.resolve();
  private timerSeq = 0;
  private eventCount = 0;
  private duplicateCount = 0;
  readonly timeline: TimelineEntry[] = [];
  private readonly effectFailures: MachineView['effectFailures'] = [];

  constructor(private readonly options: MachineRuntimeOptions) {
    const taken: AnyTransitionDefinition[] = [];
    const steps: AnyMachineSnapshot[] = [];
    const { scope, actions } = recordingScope(options.machine, taken, steps);
    this.snapshot = options.machine.getInitialSnapshot(scope as never, options.input) as AnyMachineSnapshot;
    for (const t of taken) options.onTransitionTaken?.(transitionKey(t));
    for (const s of [...steps, this.snapshot]) options.onSnapshot?.(s);
    this.execute(actions as { type: string; params: unknown }[]);
  }

  /** Whether the current state takes the event (the workflow's Update validator). */
  can(event: MachineEvent): boolean {
    return this.snapshot.status === 'active' && this.snapshot.can(event);
  }

  /** An effect or invocation is running. */
  get busy(): boolean {
    return this.inFlight.size > 0;
  }

  get current(): AnyMachineSnapshot {
    return this.snapshot;
  }

  /** An event from outside (a signal or an accepted Update): de-duplicated and stamped like the workflow does. */
  receive(event: MachineEvent): void {
    const key = this.options.dedupeKey?.(event);
    if (key !== undefined) {
      if (this.seen.has(key)) {
        this.duplicateCount++;
        return;
      }
      this.seen.add(key);
    }
    const field = this.options.receivedAtField;
    this.dispatch(field ? { ...event, [field]: this.options.now() } : event);
  }

  /** The earliest pending timer due at or before `until`, if any. */
  nextTimerDue(until: number): number | undefined {
    let earliest: number | undefined;
    for (const { dueAt } of this.timers.values())
      if (dueAt <= until && (earliest === undefined || dueAt < earliest)) earliest = dueAt;
    return earliest;
  }

  /** Fires the timers due at `at` (the clock already stands there). */
  fireTimersDueAt(at: number): void {
    for (const [id, timer] of [...this.timers]) {
      if (timer.dueAt > at || this.timers.get(id) !== timer) continue;
      this.timers.delete(id);
      this.dispatch(timer.event);
    }
  }

  /** Resolves once no effect or invocation is running (including those their results started). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  view(): MachineView {
    const iso = (ms: number) => new Date(ms).toISOString();
    return {
      value: this.snapshot.value,
      state: formatStateValue(this.snapshot.value),
      status: this.snapshot.status,
      context: this.snapshot.context,
      timeline: [...this.timeline],
      pendingTimers: [...this.timers].map(([id, t]) => ({ id, event: t.event.type, dueAt: iso(t.dueAt) })),
      runningInvocations: [...this.invocations].map(([id, i]) => ({ id, src: i.src, startedAt: iso(i.startedAt) })),
      effectFailures: [...this.effectFailures],
      eventCount: this.eventCount,
      duplicateCount: this.duplicateCount,
      generation: 0,
    };
  }

  private dispatch(event: AnyEventObject): void {
    if (this.snapshot.status !== 'active') return;
    const from = formatStateValue(this.snapshot.value);
    const taken: AnyTransitionDefinition[] = [];
    const steps: AnyMachineSnapshot[] = [];
    const [next, actions] = transitionRecording(this.options.machine, this.snapshot, event, taken, steps);
    this.snapshot = next;
    this.eventCount++;
    if (next.status === 'error')
      throw new Error(`machine error on ${event.type}: ${String((next as { error?: unknown }).error)}`);
    for (const t of taken) this.options.onTransitionTaken?.(transitionKey(t));
    for (const s of [...steps, next]) this.options.onSnapshot?.(s);
    const to = formatStateValue(next.value);
    if (taken.some((t) => (t.target?.length ?? 0) > 0) || from !== to) {
      const by = (event as { by?: unknown }).by;
      this.timeline.push({
        at: new Date(this.options.now()).toISOString(),
        from,
        to,
        event: event.type,
        ...(typeof by === 'string' ? { by } : {}),
      });
    }
    this.execute(actions as { type: string; params: unknown }[]);
  }

  private execute(actions: { type: string; params: unknown }[]): void {
    for (const { type, params } of actions) {
      const p = params as Record<string, unknown> | undefined;
      switch (type) {
        case 'xstate.raise': {
          const { event, delay, id } = p as { event: EventObject; delay?: number; id?: string };
          if (delay === undefined) throw new Error(`undelayed raise of ${event.type} escaped the macrostep`);
          this.timers.set(id ?? `raise.${++this.timerSeq}`, { event, dueAt: this.options.now() + delay });
          break;
        }
        case 'xstate.cancel':
          this.timers.delete((p as { sendId: string }).sendId);
          break;
        case 'xstate.spawnChild': {
          const { id, src, input } = p as { id: string; src: unknown; input?: unknown };
          if (typeof src !== 'string') throw new Error(`invoke '${id}' must name its actor by src`);
          this.invoke(id, src, input);
          break;
        }
        case 'xstate.stopChild':
          this.invocations.delete((p as { id: string }).id);
          break;
        case 'xstate.log':
        case 'xstate.emit':
          break;
        default:
          if (type.startsWith('xstate.')) throw new Error(`${type} cannot run durably`);
          this.runEffect(type, params);
      }
    }
  }

  private runEffect(type: string, params: unknown): void {
    const done = (this.effectChain = this.effectChain.then(async () => {
      try {
        await this.call(type, params);
      } catch (err) {
        const error = toInvocationError(err);
        this.effectFailures.push({ at: new Date(this.options.now()).toISOString(), action: type, message: error.message });
        const failed: EffectFailedEvent = { type: 'effect.failed', action: type, error };
        if (this.snapshot.status === 'active' && this.snapshot.can(failed)) this.dispatch(failed);
      }
    }));
    this.track(done);
  }

  private invoke(id: string, src: string, input: unknown): void {
    const token = {};
    this.invocations.set(id, { src, startedAt: this.options.now(), token });
    const current = () => this.invocations.get(id)?.token === token;
    this.track(
      this.call(src, input).then(
        (output) => {
          if (!current()) return;
          this.invocations.delete(id);
          this.dispatch({ type: `xstate.done.actor.${id}`, output });
        },
        (err: unknown) => {
          if (!current()) return;
          this.invocations.delete(id);
          this.dispatch({ type: `xstate.error.actor.${id}`, error: toInvocationError(err) });
        },
      ),
    );
  }

  /** An activity with the workflow's retry policy: retryable failures are tried again at once. */
  private async call(name: string, input: unknown): Promise<unknown> {
    const activity = this.options.activities[name];
    if (!activity) throw ApplicationFailure.nonRetryable(`no activity ${name} in machine mode`, 'NoSuchActivity');
    const attempts = this.options.maxAttempts(name);
    for (let attempt = 1; ; attempt++) {
      try {
        return await activity(input);
      } catch (err) {
        if ((err instanceof ApplicationFailure && err.nonRetryable) || attempt >= attempts) throw err;
      }
    }
  }

  private track(promise: Promise<unknown>): void {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise));
  }
}

/** XState's pure `transition`, with an inspector that collects the transitions of every microstep. */
export function transitionRecording(
  machine: AnyStateMachine,
  snapshot: AnyMachineSnapshot,
  event: AnyEventObject,
  taken: AnyTransitionDefinition[],
  steps?: AnyMachineSnapshot[],
) {
  const { scope, actions } = recordingScope(machine, taken, steps);
  const next = machine.transition(snapshot, event, scope as never) as AnyMachineSnapshot;
  return [next, actions] as const;
}

/**
 * What XState's `transition` / `initialTransition` run in, plus an inspector of microsteps. One
 * inspected actor a machine serves every call (creating one evaluates the machine's initial state).
 */
function recordingScope(machine: AnyStateMachine, taken: AnyTransitionDefinition[], steps?: AnyMachineSnapshot[]) {
  let recorder = recorders.get(machine);
  if (!recorder) {
    const sink: Recorder['sink'] = { taken: [] };
    const self = createActor(machine, {
      inspect: (e) => {
        if (e.type !== '@xstate.microstep') return;
        sink.taken.push(...(e as unknown as { _transitions: AnyTransitionDefinition[] })._transitions);
        sink.steps?.push(e.snapshot as AnyMachineSnapshot);
      },
    });
    recorder = { self, sink };
    recorders.set(machine, recorder);
  }
  recorder.sink.taken = taken;
  recorder.sink.steps = steps;
  const actions: unknown[] = [];
  const { self } = recorder;
  const scope = {
    self,
    defer: () => {},
    id: '',
    logger: () => {},
    sessionId: '',
    stopChild: () => {},
    system: self.system,
    emit: () => {},
    actionExecutor: (action: unknown) => void actions.push(action),
  };
  return { scope, actions };
}

interface Recorder {
  self: ReturnType<typeof createActor>;
  sink: { taken: AnyTransitionDefinition[]; steps?: AnyMachineSnapshot[] | undefined };
}
const recorders = new WeakMap<AnyStateMachine, Recorder>();

function toInvocationError(err: unknown): InvocationError {
  if (err instanceof ApplicationFailure) {
    return {
      message: err.message,
      type: err.type ?? undefined,
      nonRetryable: err.nonRetryable === true,
      details: err.details?.[0],
    };
  }
  return { message: err instanceof Error ? err.message : String(err), nonRetryable: false };
}
