/**
 * Reading a WABA's message templates from the Graph API on demand: the workflow the API starts
 * (workflows/templates.ts) and the activity it runs (activities/templates.ts).
 */
export interface TemplateRefreshInput {
  phoneNumberId: string;
  wabaId: string;
}

export interface TemplateActivities {
  /** Reads every page of the WABA's templates with the number's token and keeps them in the store. */
  refreshTemplates(input: TemplateRefreshInput): Promise<{ templates: number }>;
}

/** One refresh at a time per WABA: a second request while one runs waits for the same one. */
export const templateRefreshWorkflowId = (wabaId: string) => `templates:${wabaId}`;
