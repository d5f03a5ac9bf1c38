/**
 * Guard for reshaping: a running workflow recorded transitions of these machines, so moving code
 * around must leave each definition as it was. The fixtures were serialised from the machines
 * before the move into machine packages; functions are compared by name only (their bodies may be
 * reformatted), everything else (states, targets, guards, action names and params) exactly.
 * Regenerate on an intended change with `UPDATE_MACHINE_DEFINITIONS=1 npx jest machine-definitions`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { conversationMachine } from '../../machines/conversation';
import { onboardingMachine } from '../../machines/onboarding';

const FIXTURES = join(__dirname, '..', 'fixtures', 'machine-definitions');

function serialise(machine: { definition: unknown }): string {
  const json = JSON.stringify(machine.definition, (_key, value) => (typeof value === 'function' ? `fn:${value.name}` : value), 1);
  return `${json}\n`;
}

describe.each([
  ['onboarding', onboardingMachine],
  ['conversation', conversationMachine],
])('the %s machine', (name, machine) => {
  const file = join(FIXTURES, `${name}.json`);
  it('has the definition recorded before the reshaping', () => {
    if (process.env.UPDATE_MACHINE_DEFINITIONS === '1') writeFileSync(file, serialise(machine));
    expect(serialise(machine)).toBe(readFileSync(file, 'utf8'));
  });
});
