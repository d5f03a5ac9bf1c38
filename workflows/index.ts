/** Every workflow the worker runs. */
export { onboardingWorkflow } from './onboarding';
