/**
 * The change of ./changed.ts (waiting starts no timer) made safely, behind `patched()`.
 *
 * Patched at the interpreter level rather than as a new workflow type (`testMachineWorkflowV2`):
 * the interpreter issues every command from the machine, and the machine is chosen once, before
 * the first command, so one `patched()` call at the top of the workflow decides it for the whole
 * run. A history recorded before the patch has no marker there, so `patched` is false on replay
 * and the old machine replays it command for command; a new run records the marker and runs the
 * new machine. The workflow type stays the same, so nothing that starts or signals it (API,
 * webhooks, ops) has to change, whereas a V2 type would need every starter switched and the old
 * type kept registered until its last run ends.
 *
 * Each run decides anew: a run that continues as new from a pre-patch run gets the new machine
 * with the old machine's persisted snapshot, which is fine only while the change keeps the states
 * (as removing a timer does). A change that does not would need the choice carried in the input.
 * Once no pre-patch run is left, `deprecatePatch(TIMER_REMOVED_PATCH)` and then the plain new
 * machine replace this.
 */
import { patched } from '@temporalio/workflow';
import { runMachine, type MachineWorkflowArgs } from '../../workflows/interpreter';
import { buildTestMachine, testMachine, type TestInput } from './test-machine';
import { testActivityOptions } from './index';

export const TIMER_REMOVED_PATCH = 'test-machine-timer-removed';

const changedMachine = buildTestMachine('timerRemoved');

/** The same workflow type as ./index.ts, with the same options. */
export async function testMachineWorkflow(args: MachineWorkflowArgs<TestInput>) {
  const machine = patched(TIMER_REMOVED_PATCH) ? changedMachine : testMachine;
  return runMachine(
    {
      machine,
      activities: testActivityOptions,
      continueAsNewAfterEvents: args.input.continueAsNewAfterEvents,
      dedupeKey: (event) => (event.type === 'note' && typeof event.id === 'string' ? event.id : undefined),
    },
    args,
  );
}
