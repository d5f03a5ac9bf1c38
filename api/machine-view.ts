import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { stateQuery, type MachineView } from '../contracts/machine-api';
import { ApiError } from './http/errors';

/** A machine workflow's view by its state query; 404 when there is no such workflow. */
export async function machineView<TContext>(client: Client, workflowId: string): Promise<MachineView<TContext>> {
  try {
    return (await client.workflow.getHandle(workflowId).query(stateQuery)) as MachineView<TContext>;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ApiError(404, 'not_found', `no ${workflowId}`);
    throw err;
  }
}
