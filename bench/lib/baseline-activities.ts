/**
 * The activity of benchmark 3's baseline (bench/workflows.ts `pacedBaselineWorkflow`): one send to
 * Meta, no sooner than `notBefore`, with nothing recorded anywhere: the least a durable paced send
 * does besides its workflow.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Config } from '../../config';
import { GraphClient } from '../../activities/meta/graph-client';
import { metaMessage } from '../../activities/sender';
import { unsealToken } from '../../activities/token-vault';
import { META_API_ERROR, type MetaErrorDetails } from '../../machines/interpreter-contract';
import { NUMBER_RATE_LIMIT_CODE } from '../../machines/meta-codes';
import type { MessageStore } from '../../store';

export interface BaselineSendInput {
  phoneNumberId: string;
  waId: string;
  clientMessageId: string;
  notBefore: number;
}

export function createBaselineActivities(config: Config, store: MessageStore) {
  const graph = new GraphClient({
    baseUrl: config.META_GRAPH_BASE_URL,
    apiVersion: config.META_GRAPH_API_VERSION,
    appId: config.META_APP_ID,
    appSecret: config.META_APP_SECRET,
  });
  const tokens = new Map<string, string>();
  return {
    /** When Meta answered (epoch ms). */
    async baselineSend({ phoneNumberId, waId, clientMessageId, notBefore }: BaselineSendInput): Promise<number> {
      let token = tokens.get(phoneNumberId);
      if (!token) {
        const sealed = (await store.numbers.get(phoneNumberId))?.sealedToken;
        if (!sealed) throw new Error(`no token for ${phoneNumberId} in the number registry`);
        token = unsealToken(sealed, config.TOKEN_SEALING_KEY);
        tokens.set(phoneNumberId, token);
      }
      const wait = notBefore - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const message = { type: 'template', template: { name: 'order_update', language: 'en_US', category: 'utility' } } as const;
      // A 130429 (a loaded worker's late answer shifts its slot) is Meta's "not taken": again a second later.
      for (;;) {
        try {
          await graph.sendMessage(phoneNumberId, token, metaMessage({ waId, clientMessageId, message }));
          return Date.now();
        } catch (err) {
          const code =
            err instanceof ApplicationFailure && err.type === META_API_ERROR && (err.details?.[0] as MetaErrorDetails).code;
          if (code !== NUMBER_RATE_LIMIT_CODE) throw err;
          await new Promise((r) => setTimeout(r, 1_000));
        }
      }
    },
  };
}

export type BaselineActivities = ReturnType<typeof createBaselineActivities>;
