import { ApplicationFailure } from '@temporalio/common';
import type { Config } from '../config';
import { NUMBER_NOT_CONNECTED, type TemplateActivities } from '../contracts/templates';
import { templateLanguage } from '../machines/templates';
import type { MessageStore } from '../store/message-store';
import type { NumberState } from './number-state';
import { GraphClient } from './meta/graph-client';
import { unsealToken } from './token-vault';

/** The templates of a WABA, read from the Graph API with its number's token. */
export function createTemplateActivities(
  config: Config,
  store: MessageStore,
  numberState: (phoneNumberId: string) => Promise<NumberState>,
) {
  const graph = new GraphClient({
    baseUrl: config.META_GRAPH_BASE_URL,
    apiVersion: config.META_GRAPH_API_VERSION,
    appId: config.META_APP_ID,
    appSecret: config.META_APP_SECRET,
  });
  return {
    async refreshTemplates({ phoneNumberId, wabaId }) {
      const { sealedToken } = await numberState(phoneNumberId);
      if (!sealedToken) {
        throw ApplicationFailure.nonRetryable(
          `the onboarding of phone number id ${phoneNumberId} holds no business token yet: the number finishes Embedded Signup first`,
          NUMBER_NOT_CONNECTED,
        );
      }
      const token = unsealToken(sealedToken, config.TOKEN_SEALING_KEY);
      const reportedAt = Date.now();
      let templates = 0;
      let after: string | undefined;
      do {
        const page = await graph.listMessageTemplates(wabaId, token, after);
        for (const t of page.data) {
          await store.recordTemplate({
            wabaId,
            name: t.name,
            language: templateLanguage(t.language),
            templateId: t.id,
            status: t.status,
            ...(t.category ? { category: t.category } : {}),
            ...(t.rejected_reason ? { reason: t.rejected_reason } : {}),
            reportedAt,
          });
        }
        templates += page.data.length;
        after = page.paging?.next ? page.paging.cursors?.after : undefined;
      } while (after);
      return { templates };
    },
  } satisfies TemplateActivities;
}
