/**
 * No silent skips: at the end of a run, names every skipped test (a test that needs PostgreSQL or
 * Chromium when the machine has none, or a `.skip`) and fails the run unless COEXIST_ALLOW_SKIPS=1.
 * A run narrowed by name (`-t`) skips the rest on purpose: those are counted, never failed.
 */
class SkipReporter {
  constructor(globalConfig) {
    this.narrowed = Boolean(globalConfig.testNamePattern);
    this.error = undefined;
  }

  onRunComplete(_contexts, results) {
    const skipped = results.testResults.flatMap((file) =>
      file.testResults
        .filter((t) => t.status === 'pending' || t.status === 'skipped' || t.status === 'todo')
        .map((t) => `${file.testFilePath.replace(`${process.cwd()}/`, '')}: ${t.fullName}`),
    );
    if (skipped.length === 0 || this.narrowed) {
      if (skipped.length) process.stderr.write(`\n${skipped.length} tests not run (narrowed with -t).\n`);
      return;
    }
    const allowed = process.env.COEXIST_ALLOW_SKIPS === '1';
    const lines = [
      '',
      `${skipped.length} tests SKIPPED${allowed ? ' (allowed by COEXIST_ALLOW_SKIPS=1)' : ''}:`,
      ...skipped.map((name) => `  - ${name}`),
      allowed ? '' : 'The run fails: install what they need (.ci/run: postgresql, chromium) or set COEXIST_ALLOW_SKIPS=1.',
      '',
    ];
    process.stderr.write(lines.join('\n'));
    if (!allowed) this.error = new Error(`${skipped.length} tests skipped`);
  }

  getLastError() {
    return this.error;
  }
}

module.exports = SkipReporter;
