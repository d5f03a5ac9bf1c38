/**
 * Model coverage: every state node and every transition of a machine, read from its definition,
 * against those a run reached. A transition is one candidate of one state node for one event
 * (each guarded alternative counts apart), named by `transitionKey`.
 */
import type { AnyMachineSnapshot, AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from 'xstate';
import { getStateNodes } from 'xstate/graph';
import { activeNodes } from './machine-driver';

/** `<source state id> on <event>[#n] → <targets>`; eventless transitions are `always`. */
export function transitionKey(t: AnyTransitionDefinition): string {
  const source = t.source;
  const siblings = t.eventType ? (source.transitions.get(t.eventType) ?? []) : (source.always ?? []);
  const index = siblings.indexOf(t);
  const targets = (t.target ?? []).map((n: AnyStateNode) => n.id).join(',') || '(stays)';
  return `${source.id} on ${t.eventType || 'always'}${index > 0 ? `#${index}` : ''} → ${targets}`;
}

export interface MachineModel {
  states: string[];
  transitions: string[];
}

export function machineModel(machine: AnyStateMachine): MachineModel {
  const nodes = [machine.root, ...getStateNodes(machine)];
  return {
    states: nodes.map((n) => n.id),
    transitions: nodes.flatMap((node) => [...[...node.transitions.values()].flat(), ...(node.always ?? [])].map(transitionKey)),
  };
}

/** State node ids active in a snapshot. */
export function activeStates(snapshot: AnyMachineSnapshot): string[] {
  return activeNodes(snapshot).map((n) => n.id);
}

export class Coverage {
  readonly states = new Set<string>();
  readonly transitions = new Set<string>();
  /** By transition: each effect it emitted in a run, and whether an expectation checked it. */
  readonly effects = new Map<string, Map<string, boolean>>();

  constructor(readonly model: MachineModel) {}

  recordTransition = (key: string): void => void this.transitions.add(key);
  recordSnapshot = (snapshot: AnyMachineSnapshot): void => {
    for (const id of activeStates(snapshot)) this.states.add(id);
  };

  recordEffect = (transition: string, effect: string): void => {
    const effects = this.effects.get(transition) ?? new Map<string, boolean>();
    if (!effects.has(effect)) effects.set(effect, false);
    this.effects.set(transition, effects);
  };
  checkEffect = (transition: string, effect: string): void => {
    this.recordEffect(transition, effect);
    this.effects.get(transition)!.set(effect, true);
  };

  merge(other: Coverage): this {
    for (const s of other.states) this.states.add(s);
    for (const t of other.transitions) this.transitions.add(t);
    for (const [t, effects] of other.effects)
      for (const [e, checked] of effects) (checked ? this.checkEffect : this.recordEffect)(t, e);
    return this;
  }

  /** Covered transitions with effects: which effects an expectation checks (✓) and which none does (✗). */
  effectsReport(): { lines: string[]; unchecked: string[] } {
    const lines: string[] = [];
    const unchecked: string[] = [];
    for (const t of this.model.transitions) {
      const effects = this.effects.get(t);
      if (!effects?.size) continue;
      const list = [...effects].map(([e, checked]) => `${checked ? '✓' : '✗'} ${e}`);
      lines.push(`  ${t}: ${list.join(', ')}`);
      if (![...effects.values()].some(Boolean)) unchecked.push(t);
    }
    return { lines, unchecked };
  }

  missing() {
    return {
      states: this.model.states.filter((s) => !this.states.has(s)),
      transitions: this.model.transitions.filter((t) => !this.transitions.has(t)),
    };
  }

  summary(name: string): string {
    const m = this.missing();
    const pct = (n: number, of: number) => `${((100 * (of - n)) / of).toFixed(1)} %`;
    return (
      `${name}: states ${this.model.states.length - m.states.length}/${this.model.states.length} (${pct(m.states.length, this.model.states.length)}), ` +
      `transitions ${this.model.transitions.length - m.transitions.length}/${this.model.transitions.length} (${pct(m.transitions.length, this.model.transitions.length)})`
    );
  }
}
