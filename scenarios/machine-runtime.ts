/**
 * A machine run in this process, for scenarios in machine mode: what workflows/interpreter.ts does
 * with Temporal, done with a virtual clock and plain async functions. Custom actions run one at a
 * time in emission order, invoked actors run concurrently and answer with `xstate.done.actor.<id>`
 * / `xstate.error.actor.<id>`, delayed raises wait for `fireTimersDueAt`. The machine is driven by
 * the pure driver (scenarios/machine-driver.ts), which also names every transition taken
 * (microsteps included) for model coverage.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { AnyEventObject, AnyMachineSnapshot, AnyStateMachine } from 'xstate';
import type { InvocationError } from '../machines/interpreter-contract';
import { formatStateValue, type MachineEvent, type MachineView, type TimelineEntry } from '../contracts/machine-api';
import type { EffectFailedEvent } from '../workflows/interpreter';
import { transitionKey } from './coverage';
import { MachineDriver, type DriverStep } from './machine-driver';

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
  /** Every step, with the effects it asked for (for the effects report). */
  onStep?: (step: DriverStep) => void;
}

export class MachineRuntime {
  private readonly driver: MachineDriver;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly seen = new Set<string>();
  private effectChain: Promise<void> = Promise.resolve();
  private eventCount = 0;
  private duplicateCount = 0;
  readonly timeline: TimelineEntry[] = [];
  private readonly effectFailures: MachineView['effectFailures'] = [];

  constructor(private readonly options: MachineRuntimeOptions) {
    this.driver = new MachineDriver(options.machine, options.input, { now: options.now, record: true });
    this.observe(this.driver.last);
    this.execute(this.driver.last);
  }

  /** Whether the current state takes the event (the workflow's Update validator). */
  can(event: MachineEvent): boolean {
    return this.driver.can(event);
  }

  /** An effect or invocation is running. */
  get busy(): boolean {
    return this.inFlight.size > 0;
  }

  get current(): AnyMachineSnapshot {
    return this.driver.snapshot;
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
    for (const { dueAt } of this.driver.timers.values())
      if (dueAt <= until && (earliest === undefined || dueAt < earliest)) earliest = dueAt;
    return earliest;
  }

  /** Fires the timers due at `at` (the clock already stands there). */
  fireTimersDueAt(at: number): void {
    for (const [id, timer] of [...this.driver.timers]) {
      if (timer.dueAt > at || this.driver.timers.get(id) !== timer) continue;
      this.dispatch(() => this.driver.fire(id));
    }
  }

  /** Resolves once no effect or invocation is running (including those their results started). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  view(): MachineView {
    const iso = (ms: number) => new Date(ms).toISOString();
    const { snapshot, timers, invocations } = this.driver;
    return {
      value: snapshot.value,
      state: formatStateValue(snapshot.value),
      status: snapshot.status,
      context: snapshot.context,
      timeline: [...this.timeline],
      pendingTimers: [...timers].map(([id, t]) => ({ id, event: t.event.type, dueAt: iso(t.dueAt) })),
      runningInvocations: [...invocations].map(([id, i]) => ({ id, src: i.src, startedAt: iso(i.startedAt) })),
      effectFailures: [...this.effectFailures],
      eventCount: this.eventCount,
      duplicateCount: this.duplicateCount,
      generation: 0,
    };
  }

  /** One step of the driver, observed and its effects started. */
  private dispatch(event: AnyEventObject | (() => DriverStep)): void {
    if (this.driver.snapshot.status !== 'active') return;
    const from = formatStateValue(this.driver.snapshot.value);
    const step = typeof event === 'function' ? event() : this.driver.send(event);
    this.eventCount++;
    if (step.snapshot.status === 'error')
      throw new Error(`machine error on ${step.event?.type}: ${String((step.snapshot as { error?: unknown }).error)}`);
    this.observe(step);
    const to = formatStateValue(step.snapshot.value);
    if (step.taken.some((t) => (t.target?.length ?? 0) > 0) || from !== to) {
      const by = (step.event as { by?: unknown } | undefined)?.by;
      this.timeline.push({
        at: new Date(this.options.now()).toISOString(),
        from,
        to,
        event: step.event?.type ?? '',
        ...(typeof by === 'string' ? { by } : {}),
      });
    }
    this.execute(step);
  }

  private observe(step: DriverStep): void {
    for (const t of step.taken) this.options.onTransitionTaken?.(transitionKey(t));
    for (const s of [...step.microsteps, step.snapshot]) this.options.onSnapshot?.(s);
    this.options.onStep?.(step);
  }

  /** Effects one at a time in emission order; invocations concurrently. */
  private execute(step: DriverStep): void {
    for (const { type, params } of step.effects) this.runEffect(type, params);
    for (const { id, src, input } of step.started) this.invoke(id, src, input);
  }

  private runEffect(type: string, params: unknown): void {
    const done = (this.effectChain = this.effectChain.then(async () => {
      try {
        await this.call(type, params);
      } catch (err) {
        const error = toInvocationError(err);
        this.effectFailures.push({ at: new Date(this.options.now()).toISOString(), action: type, message: error.message });
        const failed: EffectFailedEvent = { type: 'effect.failed', action: type, error };
        if (this.driver.can(failed)) this.dispatch(failed);
      }
    }));
    this.track(done);
  }

  private invoke(id: string, src: string, input: unknown): void {
    const invocation = this.driver.invocations.get(id);
    const current = () => invocation !== undefined && this.driver.invocations.get(id) === invocation;
    this.track(
      this.call(src, input).then(
        (output) => {
          if (current()) this.dispatch(() => this.driver.done(id, output));
        },
        (err: unknown) => {
          if (current()) this.dispatch(() => this.driver.fail(id, toInvocationError(err)));
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
