/** Phone numbers as backends and people write them, read to E.164 with libphonenumber (contracts/ids.ts). */
import { isE164, onboardingWorkflowId, readPhoneNumber, toE164 } from '../../contracts/ids';

test.each([
  ['+15550783881', 'E.164'],
  ['+1 (555) 078-3881', 'with spaces, parentheses and a dash'],
  ['+1 555.078.3881', 'with dots'],
  ['0015550783881', '00 for +'],
  ['15550783881', 'bare digits with the country code, as Meta writes numbers'],
])('%s (%s) is +15550783881, and its onboarding onboarding:+15550783881', (written) => {
  expect(readPhoneNumber(written)).toEqual({ e164: '+15550783881' });
  expect(onboardingWorkflowId((readPhoneNumber(written) as { e164: string }).e164)).toBe('onboarding:+15550783881');
});

test('numbers of other countries keep their country code', () => {
  expect(readPhoneNumber('+44 20 7946 0958')).toEqual({ e164: '+442079460958' });
  expect(readPhoneNumber('004915112345678')).toEqual({ e164: '+4915112345678' });
});

test.each([
  ['(555) 078-3881', /ambiguous without \+ and the country code/],
  ['555 078 3881', /ambiguous without \+ and the country code/],
  ['05550783881', /ambiguous: a national number \(leading 0\)/],
  ['0', /ambiguous: a national number/],
  ['+1555078388', /too short/],
  ['+155507838810000', /too long|length/],
  ['+9991234567', /no known country calling code/],
  ['+15550783881 ', /must be a phone number in digits/],
  [' +15550783881', /must be a phone number in digits/],
  ['+1555\n0783881', /must be a phone number in digits/],
  ['+１５５５０７８３８８１', /must be a phone number in digits/],
  ['١٥٥٥٠٧٨٣٨٨١', /must be a phone number in digits/],
  ['+15550783881;ls', /must be a phone number in digits/],
  ['1e5', /must be a phone number in digits/],
  ['', /must be a phone number in digits/],
  ['+', /must be a phone number in digits/],
])('%j is refused with its reason', (written, reason) => {
  const reading = readPhoneNumber(written);
  expect(reading).toEqual({ refused: expect.stringMatching(reason) });
});

test('a workflow id is made only from E.164 as readPhoneNumber writes it', () => {
  expect(isE164('+15550783881')).toBe(true);
  expect(isE164('+1 555 078 3881')).toBe(false);
  expect(() => onboardingWorkflowId('15550783881')).toThrow('not an E.164 phone number');
});

test("Meta's numbers (international, without +) are read to E.164", () => {
  expect(toE164('15550783881')).toBe('+15550783881');
  expect(toE164('+1 555-078-3881')).toBe('+15550783881');
  expect(toE164('1 555 078 3881')).toBe('+15550783881');
  expect(toE164('999')).toBeUndefined();
  // Read as +82000000, which is not itself E.164: no number, rather than one no workflow id takes.
  expect(toE164('820000000')).toBeUndefined();
});
