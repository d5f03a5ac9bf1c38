import type { InterpreterOptions } from '../../workflows/interpreter';
import { runMachine, type MachineWorkflowArgs } from '../../workflows/interpreter';
import { testMachine, type TestInput } from './test-machine';

export const testActivityOptions: InterpreterOptions<typeof testMachine>['activities'] = {
  default: { startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3, initialInterval: '100ms' } },
  doWork: { startToCloseTimeout: '1 hour', heartbeatTimeout: '2 seconds', retry: { maximumAttempts: 1 } },
};

export async function testMachineWorkflow(args: MachineWorkflowArgs<TestInput>) {
  return runMachine(
    {
      machine: testMachine,
      activities: testActivityOptions,
      continueAsNewAfterEvents: args.input.continueAsNewAfterEvents,
      dedupeKey: (event) => (event.type === 'note' && typeof event.id === 'string' ? event.id : undefined),
    },
    args,
  );
}
