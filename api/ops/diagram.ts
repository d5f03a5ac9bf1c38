import type { AnyStateMachine } from 'xstate';

/** A state of the machine as the ops page draws it. */
export interface DiagramNode {
  id: string;
  key: string;
  type: string;
  initial?: string;
  states: DiagramNode[];
  transitions: { event: string; targets: string[] }[];
}

type StateNodeLike = {
  id: string;
  key: string;
  type: string;
  initial?: { target?: { key: string }[] };
  states: Record<string, StateNodeLike>;
  transitions: Map<string, { target?: { id: string }[] }[]>;
};

/** The machine's states and transitions, read from its definition (nothing drawn by hand). */
export function machineDiagram(machine: AnyStateMachine): DiagramNode {
  const walk = (node: StateNodeLike): DiagramNode => ({
    id: node.id,
    key: node.key,
    type: node.type,
    ...(node.initial?.target?.[0] ? { initial: node.initial.target[0].key } : {}),
    states: Object.values(node.states).map(walk),
    transitions: [...node.transitions].flatMap(([event, list]) =>
      list.map((t) => ({ event, targets: (t.target ?? []).map((target) => target.id) })).filter((t) => t.targets.length > 0),
    ),
  });
  return walk(machine.root as unknown as StateNodeLike);
}
