/** Reads a WABA's templates from the Graph API into the store (contracts/templates.ts). */
import { proxyActivities } from '@temporalio/workflow';
import type { TemplateActivities, TemplateRefreshInput } from '../contracts/templates';

const { refreshTemplates } = proxyActivities<TemplateActivities>({
  startToCloseTimeout: '1 minute',
  // Meta's non-retryable codes (a lost token) end it at once: the API answers with Meta's reason.
  retry: { maximumAttempts: 5, initialInterval: '1 second' },
});

export async function templateRefreshWorkflow(input: TemplateRefreshInput): Promise<{ templates: number }> {
  return refreshTemplates(input);
}
