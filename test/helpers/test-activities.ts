import { ApplicationFailure, Context } from '@temporalio/activity';
import type { DoWorkInput } from '../workflows/test-machine';

/** Activities of the test machine, recording what ran so that tests can assert effects. */
export function createTestActivities() {
  const recorded: string[] = [];
  const work: string[] = [];
  return {
    recorded,
    work,
    activities: {
      async record({ note }: { note: string }): Promise<void> {
        recorded.push(note);
      },
      async doWork({ mode }: DoWorkInput): Promise<string> {
        work.push(`started:${mode}`);
        if (mode === 'fail') throw ApplicationFailure.nonRetryable('the work was refused', 'WorkError', { code: 42 });
        if (mode === 'slow') {
          try {
            for (;;) {
              Context.current().heartbeat();
              await Context.current().sleep(200);
            }
          } catch (err) {
            work.push(`cancelled:${mode}`);
            throw err;
          }
        }
        return `done:${mode}`;
      },
    },
  };
}
