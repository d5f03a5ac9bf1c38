/** Every workflow the worker runs. */
export { onboardingWorkflow } from './onboarding';
export { conversationWorkflow } from './conversation';
export { senderWorkflow } from './sender';
export { templateRefreshWorkflow } from './templates';
