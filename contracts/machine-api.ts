/**
 * The messages every machine workflow answers, shared by workflows, client and API.
 * (Definitions only: importing this module starts nothing.)
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { StateValue } from 'xstate';

/** An event from outside. Types starting with `xstate.` are the interpreter's own and refused. */
export interface MachineEvent {
  type: string;
  [key: string]: unknown;
}

export interface TimelineEntry {
  /** ISO time of the workflow clock when the event was processed. */
  at: string;
  from: string;
  to: string;
  event: string;
  /** Who sent the event, when it says (`by` on backend and ops events). */
  by?: string;
}

export interface PendingTimerView {
  id: string;
  event: string;
  dueAt: string;
}

export interface RunningInvocationView {
  id: string;
  src: string;
  startedAt: string;
}

export interface EffectFailureView {
  at: string;
  action: string;
  message: string;
}

/** What the `state` query and the `send` update return. */
export interface MachineView<TContext = unknown> {
  value: StateValue;
  /** `value` as dotted leaf paths, e.g. `linking.awaitingScan`. */
  state: string;
  status: 'active' | 'done' | 'error' | 'stopped';
  context: TContext;
  timeline: TimelineEntry[];
  pendingTimers: PendingTimerView[];
  runningInvocations: RunningInvocationView[];
  effectFailures: EffectFailureView[];
  /** Events processed since the workflow began, across continue-as-new. */
  eventCount: number;
  /** Events dropped as duplicates by the dedupe key, across continue-as-new. */
  duplicateCount: number;
  /** Continue-as-new boundaries crossed. */
  generation: number;
}

/** Fire-and-forget event: an event the state cannot take is ignored (as XState does). */
export const eventSignal = defineSignal<[MachineEvent]>('event');

/**
 * Event with an answer: the validator refuses, without writing to history, an event the current
 * state cannot take; accepted events return the view after the transition.
 */
export const sendUpdate = defineUpdate<MachineView, [MachineEvent]>('send');

export const stateQuery = defineQuery<MachineView>('state');

export function formatStateValue(value: StateValue): string {
  if (typeof value === 'string') return value;
  return Object.entries(value)
    .map(([key, child]) => (child === undefined ? key : leafPaths(key, child as StateValue)))
    .join(',');
}

function leafPaths(prefix: string, value: StateValue): string {
  if (typeof value === 'string') return `${prefix}.${value}`;
  const entries = Object.entries(value);
  if (entries.length === 0) return prefix;
  return entries.map(([k, v]) => leafPaths(`${prefix}.${k}`, v as StateValue)).join(',');
}
