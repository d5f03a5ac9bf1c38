/**
 * The bench worker's workflows: the production ones, and the hand-written baselines the
 * benchmarks compare them with (registered in the bench worker only).
 */
import { condition, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { ConversationInput, InboundMessage } from '../machines/conversation';
import { DEFAULT_CONVERSATION_SETTINGS } from '../machines/conversation';
import { INBOUND_PRICING } from '../machines/conversation/rules';
import type { MessageRecord } from '../machines/conversation/messages';
import { conversationActivities } from '../workflows/conversation';
import { eventSignal, stateQuery, type MachineEvent, type MachineView } from '../contracts/machine-api';
import type { BaselineActivities } from './lib/baseline-activities';

export * from '../workflows';

/** Activities only the baselines use. */
export const benchActivities = {
  /** An activity that does nothing: the cost of scheduling one. */
  async benchNoop(): Promise<void> {},
};

const { recordMessage } = proxyActivities<{ recordMessage(record: MessageRecord): Promise<void> }>(
  conversationActivities.default,
);
const { benchNoop } = proxyActivities<typeof benchActivities>({ startToCloseTimeout: '10 seconds' });
const { baselineSend } = proxyActivities<BaselineActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 1 },
});

/**
 * Benchmark 2's baseline: the conversation workflow's customer-message path written by hand,
 * with the same activity (`recordMessage`, same options, one at a time), the same timer (one
 * customer-service-window check, armed when the window opens), the same de-duplication by
 * message id and the same arrival stamp. It answers `state` with the event counts only.
 */
export async function handWrittenConversationWorkflow({ input }: { input: ConversationInput }): Promise<void> {
  const windowMs = input.settings?.customerServiceWindowMs ?? DEFAULT_CONVERSATION_SETTINGS.customerServiceWindowMs;
  const seen = new Set<string>();
  const inbox: { message: InboundMessage; at: number }[] = [];
  let eventCount = 0;
  let duplicateCount = 0;
  let windowExpiresAt: number | undefined;

  setHandler(eventSignal, (event: MachineEvent) => {
    if (event.type !== 'customer.message') return;
    const message = event.message as InboundMessage;
    if (seen.has(message.id)) {
      duplicateCount++;
      return;
    }
    seen.add(message.id);
    eventCount++;
    inbox.push({ message, at: Date.now() });
  });
  setHandler(stateQuery, () => ({ eventCount, duplicateCount }) as MachineView);

  for (;;) {
    await condition(() => inbox.length > 0);
    const { message, at } = inbox.shift()!;
    const deadline = message.timestamp + windowMs;
    if (windowExpiresAt === undefined) {
      windowExpiresAt = deadline;
      void windowCheck();
    } else windowExpiresAt = Math.max(windowExpiresAt, deadline);
    await recordMessage({
      id: message.id,
      wamid: message.id,
      phoneNumberId: input.phoneNumberId,
      waId: input.waId,
      type: message.type,
      content: message.content,
      timestamp: message.timestamp,
      status: 'received',
      statusAt: at,
      direction: 'inbound',
      source: 'customer',
      pricing: INBOUND_PRICING,
    });
  }

  async function windowCheck() {
    while (windowExpiresAt !== undefined && windowExpiresAt > Date.now()) await sleep(windowExpiresAt - Date.now());
    windowExpiresAt = undefined;
  }
}

/** Benchmark 5's baseline: `activities` activities that do nothing, one after another. */
export async function bareWorkflow(activities: number): Promise<void> {
  for (let i = 0; i < activities; i++) await benchNoop();
}

/**
 * Benchmark 3's baseline: the least durable paced sender. One workflow a number, one activity a
 * message (Meta's answer only, nothing recorded), paced as coexist's sender is: 20 slots, each
 * sending no sooner than a second after its previous answer.
 */
export async function pacedBaselineWorkflow({
  phoneNumberId,
  waIds,
  count,
  run,
  slots = 20,
}: {
  phoneNumberId: string;
  waIds: string[];
  count: number;
  run: string;
  slots?: number;
}): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: slots }, async () => {
      let notBefore = 0;
      while (next < count) {
        const i = next++;
        const waId = waIds[i % waIds.length]!;
        const answeredAt = await baselineSend({
          phoneNumberId,
          waId,
          clientMessageId: `bench-${run}-${phoneNumberId}-${i}`,
          notBefore,
        });
        notBefore = answeredAt + 1000;
      }
    }),
  );
}
