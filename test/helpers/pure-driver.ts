import { initialTransition, transition, type AnyEventObject, type AnyMachineSnapshot, type AnyStateMachine, type InputFrom } from 'xstate';
import { META_API_ERROR, type InvocationError } from '../../machines/effects';

interface Action {
  type: string;
  params: Record<string, unknown>;
}

/**
 * Drives a machine with XState's pure functions, keeping the interpreter's bookkeeping (timers,
 * running invocations) in plain maps, so unit tests can deliver timer and invocation results.
 */
export function drive<M extends AnyStateMachine>(machine: M, input: InputFrom<M>) {
  const [first, firstActions] = initialTransition(machine, input);
  let snapshot: AnyMachineSnapshot = first;
  const timers = new Map<string, AnyEventObject>();
  const invocations = new Map<string, { src: string; input: unknown }>();
  const effects: Action[] = [];

  function apply(actions: Action[]): Action[] {
    for (const a of actions) {
      if (a.type === 'xstate.raise') timers.set(String(a.params.id), a.params.event as AnyEventObject);
      else if (a.type === 'xstate.cancel') timers.delete(String(a.params.sendId));
      else if (a.type === 'xstate.spawnChild') invocations.set(String(a.params.id), { src: String(a.params.src), input: a.params.input });
      else if (a.type === 'xstate.stopChild') invocations.delete(String(a.params.id));
      else if (!a.type.startsWith('xstate.')) effects.push(a);
    }
    return actions;
  }
  apply(firstActions as unknown as Action[]);

  const send = (event: AnyEventObject) => {
    const [next, actions] = transition(machine as AnyStateMachine, snapshot, event);
    snapshot = next;
    return apply(actions as unknown as Action[]);
  };

  return {
    get snapshot() {
      return snapshot;
    },
    get context() {
      return snapshot.context;
    },
    get state(): string {
      return JSON.stringify(snapshot.value);
    },
    timers,
    invocations,
    effects,
    can: (event: AnyEventObject) => snapshot.can(event),
    send,
    /** Completes the running invocation `id` with `output`. */
    done(id: string, output?: unknown) {
      if (!invocations.has(id)) throw new Error(`no running invocation ${id}; running: ${[...invocations.keys()]}`);
      invocations.delete(id);
      return send({ type: `xstate.done.actor.${id}`, output });
    },
    /** Fails the running invocation `id` with a Meta API error code. */
    fail(id: string, code?: number, nonRetryable = true) {
      if (!invocations.has(id)) throw new Error(`no running invocation ${id}; running: ${[...invocations.keys()]}`);
      invocations.delete(id);
      const error: InvocationError = code === undefined
        ? { message: 'activity timed out', nonRetryable: false }
        : { message: `(#${code})`, type: META_API_ERROR, nonRetryable, details: { code, httpStatus: 400 } };
      return send({ type: `xstate.error.actor.${id}`, error });
    },
    /** Fires the pending timer whose id contains `fragment`. */
    fire(fragment: string) {
      const id = [...timers.keys()].find((k) => k.includes(fragment));
      if (!id) throw new Error(`no pending timer matching ${fragment}; pending: ${[...timers.keys()]}`);
      const event = timers.get(id)!;
      timers.delete(id);
      return send(event);
    },
    effectsOf(type: string) {
      return effects.filter((e) => e.type === type).map((e) => e.params);
    },
  };
}
