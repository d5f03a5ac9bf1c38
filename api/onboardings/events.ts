/**
 * What each onboarding request means to the machine: the one translation from a parsed request body
 * to the machine event, used by the routes and by the scenario runner's machine and signal modes.
 * `at` is when the API received it (epoch ms): machines never read a clock.
 */
import type { OnboardingEvent } from '../../machines/onboarding';
import type { Prerequisites, SignupResult, UserEvent } from './schemas';

export function prerequisitesEvent(report: Prerequisites, at: number): OnboardingEvent {
  return { type: 'prerequisites.report', ...report, at };
}

export function signupEvent(result: SignupResult, at: number): OnboardingEvent {
  if ('code' in result) {
    return {
      type: 'signup.finished',
      wabaId: result.data.waba_id,
      code: result.code,
      at,
      ...(result.data.phone_number_id ? { phoneNumberId: result.data.phone_number_id } : {}),
    };
  }
  const { current_step, error_code, error_message, session_id } = result.data;
  return {
    type: 'signup.cancelled',
    at,
    ...(current_step ? { currentStep: current_step } : {}),
    ...(error_code !== undefined ? { errorCode: String(error_code) } : {}),
    ...(error_message ? { errorMessage: error_message } : {}),
    ...(session_id ? { sessionId: session_id } : {}),
  };
}

export function userEvent(event: UserEvent, at: number): OnboardingEvent {
  switch (event.type) {
    case 'signupStarted':
      return { type: 'signup.started', at };
    case 'qrScanned':
      return { type: 'linking.confirmed', method: 'qr', at };
    case 'codeEntered':
      return { type: 'linking.confirmed', method: 'code', at };
    case 'refreshLinking':
      return { type: 'linking.refresh', by: 'backend' };
    case 'paymentAdded':
      return { type: 'payment.added', at, by: 'backend' };
    case 'refreshStatusCard':
      return { type: 'statusCard.refresh', by: 'backend' };
    case 'retry':
      return { type: 'retry', by: 'backend' };
    case 'cancel':
      return { type: 'cancel', by: 'backend' };
  }
}
