/** The same workflow type as ./index.ts, running the deliberately changed machine. */
import { runMachine, type MachineWorkflowArgs } from '../../workflows/interpreter';
import { buildTestMachine, type TestInput } from './test-machine';
import { testActivityOptions } from './index';

const changedMachine = buildTestMachine('timerRemoved');

export async function testMachineWorkflow(args: MachineWorkflowArgs<TestInput>) {
  return runMachine({ machine: changedMachine, activities: testActivityOptions }, args);
}
