/** Which failures of a conversation effect retrying cannot fix (parked after a few attempts), and which are transient. */
import { ApplicationFailure } from '@temporalio/common';
import { permanentFailure } from '../../activities/parking';
import { MessageConflictError } from '../../store/message-store';

const sqlError = (code: string) => Object.assign(new Error(`sqlstate ${code}`), { code });

test('a conflict, invalid data, a constraint, a program limit or a non-retryable refusal cannot be fixed by retrying', () => {
  expect(permanentFailure(new MessageConflictError('a different message'))).toBe('conflict');
  for (const code of ['22P02', '22021', '22P05', '23505', '23502', '54000'])
    expect(permanentFailure(sqlError(code))).toBe('failed');
  expect(permanentFailure(ApplicationFailure.nonRetryable('Meta refused it', 'MetaApiError'))).toBe('failed');
  expect(permanentFailure(Object.assign(new Error('bad'), { name: 'ZodError' }))).toBe('failed');
});

test('an unreachable store or Temporal, a lost connection or a deadlock is transient', () => {
  expect(permanentFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBeUndefined();
  for (const code of ['08006', '57P01', '40001', '40P01', '53300']) expect(permanentFailure(sqlError(code))).toBeUndefined();
  expect(permanentFailure(ApplicationFailure.retryable('try again'))).toBeUndefined();
  expect(permanentFailure(new Error('timeout'))).toBeUndefined();
  expect(permanentFailure('not even an error')).toBeUndefined();
});
