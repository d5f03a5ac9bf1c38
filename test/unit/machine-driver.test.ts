/**
 * The shared pure driver's record of a step (scenarios/machine-driver.ts) and the effects report's
 * rules (scenarios/effects.ts): what model coverage and the effects report are built on.
 */
import { onboardingMachine } from '../../machines/onboarding';
import { Coverage, machineModel, transitionKey } from '../../scenarios/coverage';
import { EffectLedger, effectsOf, observes } from '../../scenarios/effects';
import { MachineDriver } from '../../scenarios/machine-driver';

const T0 = 1_750_000_000_000;

function toRegistration(record = true) {
  const driver = new MachineDriver(onboardingMachine, { phoneNumber: '+15550783881' }, { record });
  driver.send({ type: 'prerequisites.report', appVersion: '2.24.17', hasBusinessPortfolio: true, connectedElsewhere: false });
  driver.send({ type: 'signup.finished', wabaId: 'waba-1', code: 'code', at: T0 });
  driver.done('exchangeSignupCode', { sealedToken: 'sealed:v1:abc' });
  driver.done('lookupPhoneNumber', {
    phoneNumberId: 'pnid-1',
    displayPhoneNumber: '+1',
    isOnBizApp: true,
    platformType: 'CLOUD_API',
  });
  driver.send({ type: 'linking.confirmed', method: 'qr', at: T0 + 30_000 });
  driver.done('subscribeApp', undefined);
  return driver;
}

test('a step names the event transition and the eventless ones after it, with what each microstep emitted', () => {
  const driver = toRegistration();
  const step = driver.done('checkRegistration', { isOnBizApp: true, platformType: 'CLOUD_API', status: 'CONNECTED' });
  const keys = step.taken.map(transitionKey);
  const model = machineModel(onboardingMachine).transitions;
  for (const key of keys) expect(model).toContain(key);
  expect(keys[0]).toMatch(/ on xstate\.done\.actor\.checkRegistration/);
  // Sync decides its first request with an eventless transition.
  const eventless = step.byMicrostep.find((m) => m.taken.some((t) => transitionKey(t).includes('requests.next on always')));
  expect(eventless).toBeDefined();
  expect(transitionKey(eventless!.taken[0]!)).toMatch(/→ .*requestingContacts$/);
  expect(effectsOf(eventless!.actions).map((e) => e.name)).toContain('invoke requestSync');
  expect(step.microsteps.at(-1)!.value).toEqual(step.snapshot.value);
  expect(step.microsteps.at(-1)!.context).toEqual(step.snapshot.context);
  expect(driver.invocations.get('requestContactsSync')?.src).toBe('requestSync');
});

test('without recording, a step carries no transitions (the unit tests pay nothing for coverage)', () => {
  const driver = toRegistration(false);
  expect(driver.last.taken).toEqual([]);
  expect(driver.last.byMicrostep).toEqual([]);
});

test('an effect is checked only by an expectation that observes it, after it was emitted', () => {
  expect(observes({ callbacks: ['linking.qr'] }, { name: 'notifyBackend(linking.qr)' })).toBe(true);
  expect(observes({ callbacks: ['stage.changed'] }, { name: 'notifyBackend(linking.qr)' })).toBe(false);
  expect(observes({ messages: { '16505551234': [] } }, { name: 'recordMessage', waId: '16505551234' })).toBe(true);
  expect(observes({ messages: { '16505550000': [] } }, { name: 'recordMessage', waId: '16505551234' })).toBe(false);
  expect(observes({ onboarding: { statusCard: {} } }, { name: 'invoke fetchStatusCard' })).toBe(true);
  expect(observes({ onboarding: { stage: 'active' } }, { name: 'invoke fetchStatusCard' })).toBe(false);

  const coverage = new Coverage(machineModel(onboardingMachine));
  const ledger = new EffectLedger();
  ledger.held({ onboarding: { registration: {} } }, ['onboarding:a']); // before anything was emitted: checks nothing
  const driver = toRegistration();
  ledger.emitted('onboarding:a', coverage, driver.last.byMicrostep);
  const [transition, effects] = [...coverage.effects][0]!;
  expect([...effects.values()].every((checked) => !checked)).toBe(true);
  ledger.held({ onboarding: { registration: {} } }, ['onboarding:b']);
  expect([...coverage.effects.get(transition)!.values()].some(Boolean)).toBe(false);
  ledger.held({ onboarding: { registration: {} } }, ['onboarding:a']);
  expect(coverage.effects.get(transition)!.get('invoke checkRegistration')).toBe(true);
  expect(coverage.effectsReport().unchecked).not.toContain(transition);
});
