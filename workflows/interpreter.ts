/**
 * The durable interpreter: runs any XState v5 machine inside a Temporal workflow with XState's
 * pure `initialTransition` / `transition`. The machine stays pure; Temporal owns time, effects
 * and persistence. No live actor is ever created, so nothing XState would drop on restore
 * (pending delayed events, running invocations) lives outside this interpreter's own tables.
 *
 *   custom action `x` with params      → activity `x(params)`, in emission order, one at a time
 *   `after` / delayed `raise`          → durable timer; XState's `cancel` cancels it
 *   `invoke: { src: 'y', id }`         → activity `y(input)`; result → `xstate.done.actor.<id>`,
 *                                        failure → `xstate.error.actor.<id>`; `stopChild` cancels
 *   signal `event` / update `send`     → transition; the update's validator refuses what
 *                                        `snapshot.can(event)` refuses
 *   query `state`                      → MachineView
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  type ActivityOptions,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  metricMeter,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import {
  initialTransition,
  transition,
  type AnyEventObject,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type EventObject,
  type InputFrom,
} from 'xstate';
import type { InvocationError } from '../machines/interpreter-contract';
import { compact, iso } from '../machines/plain';
import {
  eventSignal,
  formatStateValue,
  sendUpdate,
  stateQuery,
  type EffectFailureView,
  type MachineEvent,
  type MachineView,
  type TimelineEntry,
} from '../contracts/machine-api';

export interface InterpreterOptions<TMachine extends AnyStateMachine> {
  machine: TMachine;
  /**
   * Activity options by action type or actor `src`; `default` applies to every name not listed.
   * Each name's options are merged over `default`.
   */
  activities: { default: ActivityOptions } & Record<string, ActivityOptions>;
  /** Continue-as-new after this many events in one run (Temporal may suggest it earlier). */
  continueAsNewAfterEvents?: number;
  /** Timeline entries kept (oldest dropped first). */
  timelineLength?: number;
  /** Key under which an event counts as already seen; undefined = never a duplicate. */
  dedupeKey?: (event: MachineEvent) => string | undefined;
  /** How long a dedupe key is remembered (default 7 days: Meta's redelivery horizon). */
  dedupeRetentionMs?: number;
  /** Most dedupe keys remembered; the oldest go first. */
  dedupeMaxEntries?: number;
  /** Search attributes derived from the snapshot; upserted whenever they change. */
  searchAttributes?: (snapshot: AnyMachineSnapshot) => SearchAttributeUpdatePair[];
  /**
   * Why the machine refuses an event, in the domain's words, for an Update it cannot take: the
   * rejection is an ApplicationFailure of type `code` with `hint` as its detail. Undefined: the
   * generic "state … cannot take …".
   */
  refusal?: (snapshot: AnyMachineSnapshot, event: MachineEvent) => Refusal | undefined;
  /**
   * Name of an event field set to the workflow's clock when an external event arrives, for
   * machines whose timers are computed from it: the clock that runs the timers is the one to use.
   */
  receivedAtField?: string;
  /**
   * Part of the snapshot kept outside the workflow by the activity `activity`, run in order with
   * the machine's effects whenever `of` gives something new (undefined: nothing to keep yet), with
   * `mirroredAt` (the workflow's clock) added. Histories without the `patch` marker ran without it.
   */
  mirror?: { activity: string; patch: string; of: (snapshot: AnyMachineSnapshot) => object | undefined };
}

export interface Refusal {
  code: string;
  message: string;
  hint?: string;
}

/** Everything a run hands to the next across continue-as-new. JSON only. */
export interface CarriedState {
  snapshot: unknown;
  timers: { id: string; event: EventObject; dueAt: number }[];
  dedupe: [key: string, seenAt: number][];
  timeline: TimelineEntry[];
  effectFailures: EffectFailureView[];
  eventCount: number;
  duplicateCount: number;
  generation: number;
  /** Signals that arrived while the run waited to continue as new, for the next run, in order. */
  deferred?: MachineEvent[];
  /** What `mirror` last kept (JSON), so a new run does not write it again. */
  mirrored?: string;
}

export interface MachineWorkflowArgs<TInput> {
  input: TInput;
  carried?: CarriedState;
  /** Overrides the workflow's own `continueAsNewAfterEvents` for this execution chain (tests, benchmarks). */
  continueAsNewAfterEvents?: number;
}

export interface MachineResult {
  value: unknown;
  output: unknown;
  context: unknown;
}

/** Event sent to the machine when a custom action's activity failed for good. */
export interface EffectFailedEvent {
  type: 'effect.failed';
  action: string;
  error: InvocationError;
}

const DEFAULTS = {
  continueAsNewAfterEvents: 2_000,
  timelineLength: 100,
  dedupeRetentionMs: 7 * 24 * 60 * 60 * 1000,
  dedupeMaxEntries: 20_000,
};
const EFFECT_FAILURES_KEPT = 20;

export async function runMachine<TMachine extends AnyStateMachine>(
  options: InterpreterOptions<TMachine>,
  args: MachineWorkflowArgs<InputFrom<TMachine>>,
): Promise<MachineResult> {
  const machine: AnyStateMachine = options.machine;
  const settings = {
    ...DEFAULTS,
    ...(compact(options) as Partial<typeof options>),
    ...(compact({ continueAsNewAfterEvents: args.continueAsNewAfterEvents }) as Partial<typeof DEFAULTS>),
  };

  const carried = args.carried;
  let snapshot: AnyMachineSnapshot;
  let eventsThisRun = 0;
  let eventCount = carried?.eventCount ?? 0;
  let duplicateCount = carried?.duplicateCount ?? 0;
  const generation = carried?.generation ?? 0;
  const timeline: TimelineEntry[] = carried?.timeline ?? [];
  const effectFailures: EffectFailureView[] = carried?.effectFailures ?? [];
  const dedupe = new Map<string, number>(carried?.dedupe ?? []);

  // Through the worker's Temporal runtime to its metrics endpoint; never emitted during replay.
  const meter = metricMeter.withTags({ machine: machine.id });
  const transitionsTaken = meter.createCounter(
    'coexist_machine_transitions',
    undefined,
    'Transitions taken by machine workflows, by machine and event type',
  );
  const duplicatesDropped = meter.createCounter(
    'coexist_machine_events_deduplicated',
    undefined,
    'External events dropped as repeats (Meta redeliveries, repeated Updates), by machine',
  );

  const timers = new Map<string, { event: EventObject; dueAt: number; scope: CancellationScope }>();
  const invocations = new Map<string, { src: string; startedAt: number; scope: CancellationScope }>();
  let timerSeq = 0;
  let effectsInFlight = 0;
  let effectChain: Promise<void> = Promise.resolve();

  const mirror = options.mirror && patched(options.mirror.patch) ? options.mirror : undefined;
  let mirrored = carried?.mirrored;
  function mirrorIfChanged(): void {
    const value = mirror?.of(snapshot);
    if (!mirror || value === undefined) return;
    const key = JSON.stringify(value);
    if (key === mirrored) return;
    mirrored = key;
    runEffect(mirror.activity, { ...value, mirroredAt: Date.now() });
  }

  let upserted = '';
  function upsertChangedSearchAttributes(): void {
    if (!options.searchAttributes) return;
    const pairs = options.searchAttributes(snapshot);
    const key = JSON.stringify(pairs.map((p) => [p.key.name, p.value]));
    if (key === upserted) return;
    upserted = key;
    upsertSearchAttributes(pairs);
  }

  // --- activities --------------------------------------------------------------------------
  const proxies = new Map<string, (arg: unknown) => Promise<unknown>>();
  function activity(name: string): (arg: unknown) => Promise<unknown> {
    let fn = proxies.get(name);
    if (!fn) {
      const opts = { ...options.activities.default, ...options.activities[name] };
      fn = (proxyActivities(opts) as Record<string, (arg: unknown) => Promise<unknown>>)[name]!;
      proxies.set(name, fn);
    }
    return fn;
  }

  function runEffect(type: string, params: unknown): void {
    effectsInFlight++;
    effectChain = effectChain
      .then(() => activity(type)(params))
      .then(
        () => undefined,
        (err: unknown) => {
          if (isCancellation(err)) throw err;
          const error = toInvocationError(err);
          effectFailures.push({ at: nowIso(), action: type, message: error.message });
          effectFailures.splice(0, effectFailures.length - EFFECT_FAILURES_KEPT);
          log.warn('effect failed', { action: type, error: error.message });
          const failed: EffectFailedEvent = { type: 'effect.failed', action: type, error };
          if (snapshot.status === 'active' && snapshot.can(failed)) dispatch(failed);
        },
      )
      .finally(() => {
        effectsInFlight--;
      });
  }

  function startInvocation(id: string, src: string, input: unknown): void {
    const scope = new CancellationScope();
    invocations.set(id, { src, startedAt: Date.now(), scope });
    scope
      .run(() => activity(src)(input))
      .then(
        (output) => {
          if (invocations.get(id)?.scope !== scope) return;
          invocations.delete(id);
          dispatch({ type: `xstate.done.actor.${id}`, output });
        },
        (err: unknown) => {
          if (invocations.get(id)?.scope !== scope) return;
          invocations.delete(id);
          dispatch({ type: `xstate.error.actor.${id}`, error: toInvocationError(err) });
        },
      );
  }

  function stopInvocation(id: string): void {
    const running = invocations.get(id);
    if (!running) return;
    invocations.delete(id);
    running.scope.cancel();
  }

  // --- timers ------------------------------------------------------------------------------
  function startTimer(id: string, event: EventObject, dueAt: number): void {
    timers.get(id)?.scope.cancel();
    const scope = new CancellationScope();
    timers.set(id, { event, dueAt, scope });
    scope
      .run(() => sleep(Math.max(1, dueAt - Date.now())))
      .then(
        () => {
          if (timers.get(id)?.scope !== scope) return;
          timers.delete(id);
          dispatch(event);
        },
        (err: unknown) => {
          if (!isCancellation(err)) throw err;
        },
      );
  }

  function cancelTimer(id: string): void {
    const timer = timers.get(id);
    if (!timer) return;
    timers.delete(id);
    timer.scope.cancel();
  }

  // --- machine -----------------------------------------------------------------------------
  function execute(actions: { type: string; params: unknown }[]): void {
    for (const action of actions) {
      const params = action.params as Record<string, unknown> | undefined;
      switch (action.type) {
        case 'xstate.raise': {
          const { event, delay, id } = params as { event: EventObject; delay?: number; id?: string };
          // Immediate raises are resolved inside `transition`; only delayed ones reach here.
          if (delay === undefined) throw new Error(`undelayed raise of ${event.type} escaped the macrostep`);
          startTimer(id ?? `raise.${++timerSeq}`, event, Date.now() + delay);
          break;
        }
        case 'xstate.cancel':
          cancelTimer((params as { sendId: string }).sendId);
          break;
        case 'xstate.spawnChild': {
          const { id, src, input } = params as { id: string; src: unknown; input?: unknown };
          if (typeof src !== 'string') {
            throw new Error(`invoke/spawn '${id}' must name its actor by src to run as an activity`);
          }
          startInvocation(id, src, input);
          break;
        }
        case 'xstate.stopChild':
          stopInvocation((params as { id: string }).id);
          break;
        case 'xstate.log':
        case 'xstate.emit':
          break;
        default:
          if (action.type.startsWith('xstate.')) {
            throw new Error(`${action.type} cannot run durably; use named actions, invoke or after`);
          }
          runEffect(action.type, action.params);
      }
    }
  }

  function dispatch(event: AnyEventObject): void {
    if (snapshot.status !== 'active') return;
    const from = formatStateValue(snapshot.value);
    // A transition with a target counts even when it re-enters the same state (a lapsed timer).
    const targeted = machine.getTransitionData(snapshot, event).some((t) => (t.target?.length ?? 0) > 0);
    const [next, actions] = transition(machine, snapshot, event);
    snapshot = next;
    eventsThisRun++;
    eventCount++;
    if (snapshot.status === 'error') {
      // A throwing guard or assign is a bug in the machine: fail the task so it retries on a fix.
      throw new Error(`machine error on ${event.type}: ${String((snapshot as { error?: unknown }).error)}`);
    }
    const to = formatStateValue(snapshot.value);
    if (targeted || from !== to) {
      transitionsTaken.add(1, { event: event.type });
      const by = (event as { by?: unknown }).by;
      timeline.push({ at: nowIso(), from, to, event: event.type, ...(typeof by === 'string' ? { by } : {}) });
      timeline.splice(0, timeline.length - settings.timelineLength);
    }
    upsertChangedSearchAttributes();
    execute(actions as { type: string; params: unknown }[]);
    mirrorIfChanged();
  }

  const deferred: MachineEvent[] = [];
  function continueAsNewDue(): boolean {
    return eventsThisRun >= settings.continueAsNewAfterEvents || workflowInfo().continueAsNewSuggested;
  }

  const received = (event: MachineEvent): MachineEvent =>
    options.receivedAtField ? { ...event, [options.receivedAtField]: Date.now() } : event;

  const alreadySeen = (event: MachineEvent) => {
    const key = options.dedupeKey?.(event);
    return key !== undefined && dedupe.has(key);
  };

  /** Counts a repeated event; records the key of a new one. */
  function isDuplicate(event: MachineEvent): boolean {
    const key = options.dedupeKey?.(event);
    if (key === undefined) return false;
    const now = Date.now();
    if (dedupe.has(key)) {
      duplicateCount++;
      duplicatesDropped.add(1);
      return true;
    }
    for (const [oldKey, seenAt] of dedupe) {
      if (now - seenAt <= settings.dedupeRetentionMs && dedupe.size < settings.dedupeMaxEntries) break;
      dedupe.delete(oldKey);
    }
    dedupe.set(key, now);
    return false;
  }

  function view(): MachineView {
    return {
      value: snapshot.value,
      state: formatStateValue(snapshot.value),
      status: snapshot.status,
      context: snapshot.context,
      timeline: [...timeline],
      pendingTimers: [...timers].map(([id, t]) => ({ id, event: t.event.type, dueAt: iso(t.dueAt) })),
      runningInvocations: [...invocations].map(([id, i]) => ({ id, src: i.src, startedAt: iso(i.startedAt) })),
      effectFailures: [...effectFailures],
      eventCount,
      duplicateCount,
      generation,
    };
  }

  // The machine first: a signal-with-start's signal (or an early Update) is delivered as soon as
  // its handler is set, in this same activation.
  if (carried) {
    const persisted = { ...(carried.snapshot as object), children: {} };
    snapshot = machine.restoreSnapshot(persisted as never, undefined as never);
    for (const timer of carried.timers) startTimer(timer.id, timer.event, timer.dueAt);
    for (const event of carried.deferred ?? []) dispatch(event);
  } else {
    const [initial, actions] = initialTransition(machine, args.input);
    snapshot = initial;
    execute(actions as { type: string; params: unknown }[]);
  }
  upsertChangedSearchAttributes();
  mirrorIfChanged();

  // Handlers in the first activation, so that early signals are delivered to this run.
  setHandler(eventSignal, (event) => {
    if (!isExternalEvent(event)) {
      log.warn('ignored a signal that is not an external event', { type: String((event as { type?: unknown } | null)?.type) });
      return;
    }
    if (isDuplicate(event)) return;
    // Once the run is due to continue as new, new signals wait for the next run: a steady stream
    // would otherwise keep effects running, and the run from ever becoming idle.
    if (continueAsNewDue()) deferred.push(received(event));
    else dispatch(received(event));
  });
  setHandler(
    sendUpdate,
    (event) => {
      if (!isDuplicate(event)) dispatch(received(event));
      return view();
    },
    {
      validator: (event) => {
        if (!isExternalEvent(event)) throw new Error('an event is an object with a string `type` not starting with xstate.');
        // A repeated update is answered with the current view, not judged again.
        if (alreadySeen(event)) return;
        if (snapshot.status !== 'active') {
          throw new Error(`the machine is ${snapshot.status} in ${formatStateValue(snapshot.value)}`);
        }
        if (!snapshot.can(event)) {
          const refusal = options.refusal?.(snapshot, event);
          if (refusal) {
            throw ApplicationFailure.create({
              type: refusal.code,
              message: refusal.message,
              details: refusal.hint ? [refusal.hint] : [],
              nonRetryable: true,
            });
          }
          throw new Error(`state ${formatStateValue(snapshot.value)} cannot take ${event.type}`);
        }
      },
    },
  );
  setHandler(stateQuery, view);

  const idle = () => invocations.size === 0 && effectsInFlight === 0 && allHandlersFinished();

  await condition(() => snapshot.status !== 'active' || (continueAsNewDue() && idle()));

  if (snapshot.status === 'active') {
    const next: CarriedState = {
      // The running-invocation table is empty here, so no child needs carrying.
      snapshot: { ...(machine.getPersistedSnapshot(snapshot) as object), children: {} },
      timers: [...timers].map(([id, t]) => ({ id, event: t.event, dueAt: t.dueAt })),
      dedupe: [...dedupe],
      timeline,
      effectFailures,
      eventCount,
      duplicateCount,
      generation: generation + 1,
      deferred,
      ...(mirrored !== undefined ? { mirrored } : {}),
    };
    return continueAsNew<(a: MachineWorkflowArgs<InputFrom<TMachine>>) => Promise<MachineResult>>({
      input: args.input,
      carried: next,
      ...(args.continueAsNewAfterEvents !== undefined ? { continueAsNewAfterEvents: args.continueAsNewAfterEvents } : {}),
    });
  }

  // Final state: nothing more can happen; let the effects already emitted finish.
  for (const id of [...timers.keys()]) cancelTimer(id);
  for (const id of [...invocations.keys()]) stopInvocation(id);
  await condition(idle);
  await effectChain;
  return { value: snapshot.value, output: snapshot.output, context: snapshot.context };
}

function isExternalEvent(event: unknown): event is MachineEvent {
  const type = (event as { type?: unknown } | null)?.type;
  return typeof type === 'string' && type.length > 0 && !type.startsWith('xstate.');
}

export function toInvocationError(err: unknown): InvocationError {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    return {
      message: cause.message,
      type: cause.type ?? undefined,
      nonRetryable: cause.nonRetryable === true,
      details: cause.details?.[0],
    };
  }
  return { message: cause instanceof Error ? cause.message : String(cause), nonRetryable: false };
}

function nowIso(): string {
  return iso(Date.now());
}
