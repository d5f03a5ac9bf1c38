/** The conversations' Temporal side: a send applied by Workflow Update, starting the conversation if need be. */
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import type { ConversationContext, ConversationEvent, ConversationInput } from '../../machines/conversation';
import { conversationWorkflowId } from '../../contracts/ids';
import { sendUpdate, type MachineEvent, type MachineView } from '../../contracts/machine-api';

export type ConversationMachineView = MachineView<ConversationContext>;

/** Resolves once the machine took the send (its view after it); a refusal rejects (409 via api/http/errors.ts). */
export async function sendToConversation(
  client: Client,
  taskQueue: string,
  input: ConversationInput,
  event: ConversationEvent,
): Promise<ConversationMachineView> {
  return (await client.workflow.executeUpdateWithStart(sendUpdate, {
    args: [event as MachineEvent],
    startWorkflowOperation: new WithStartWorkflowOperation('conversationWorkflow', {
      workflowId: conversationWorkflowId(input.phoneNumberId, input.waId),
      taskQueue,
      args: [{ input }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    }),
  })) as ConversationMachineView;
}
