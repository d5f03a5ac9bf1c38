/** Percentiles, ratios and the table every benchmark prints. */

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface Row {
  metric: string;
  baseline: number | string;
  ours: number;
  /** `>= 0.9`: ours / baseline must be at least 0.9; `<= 1.2`: at most; undefined: reported only. */
  target?: `>= ${number}` | `<= ${number}` | `= ${number}`;
  /** Compare `ours` itself with the target instead of ours / baseline (counts, rates against a limit). */
  absolute?: boolean;
  unit?: string;
}

export function ratioOf(row: Row): number | undefined {
  return typeof row.baseline === 'number' && row.baseline !== 0 ? row.ours / row.baseline : undefined;
}

export function targetMet(row: Row): boolean | undefined {
  if (!row.target) return undefined;
  const [op, raw] = row.target.split(' ') as [string, string];
  const value = row.absolute ? row.ours : ratioOf(row);
  if (value === undefined || Number.isNaN(value)) return false;
  const bound = Number(raw);
  return op === '>=' ? value >= bound : op === '<=' ? value <= bound : value === bound;
}

const fmt = (v: number | string | undefined): string => {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  if (Number.isNaN(v)) return 'n/a';
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(3);
};

/** Prints `title` and a table: metric, baseline, ours, ratio, target, met. */
export function printTable(title: string, rows: Row[]): string {
  return printGrid(
    title,
    ['metric', 'baseline', 'ours', 'ratio', 'target', 'met'],
    rows.map((r) => {
      const ratio = ratioOf(r);
      const met = targetMet(r);
      return [
        r.unit ? `${r.metric} (${r.unit})` : r.metric,
        fmt(r.baseline),
        fmt(r.ours),
        ratio === undefined ? '' : ratio.toFixed(3),
        r.target ? `${r.absolute ? 'ours' : 'ratio'} ${r.target}` : '',
        met === undefined ? '' : met ? 'yes' : 'NO',
      ];
    }),
  );
}

/** Prints `title` and a Markdown table of any columns. */
export function printGrid(title: string, header: string[], rows: (number | string)[][]): string {
  const cells = rows.map((r) => r.map(fmt));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  const text = [
    `\n### ${title}\n`,
    line(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...cells.map(line),
    '',
  ].join('\n');
  console.log(text);
  return text;
}

export function progress(bench: string, message: string): void {
  console.log(`[${bench}] ${new Date().toISOString().slice(11, 19)} ${message}`);
}

/**
 * A run failed (errors, lost or duplicated messages): collects the reasons; the benchmark exits 1.
 * A missed target is never a failure.
 */
export class Failures {
  readonly reasons: string[] = [];
  check(ok: boolean, reason: string): void {
    if (!ok) this.reasons.push(reason);
  }
  exitCode(bench: string): number {
    for (const r of this.reasons) console.error(`[${bench}] FAILED: ${r}`);
    return this.reasons.length ? 1 : 0;
  }
}

/** Integer option from `--name=value` or the environment variable, else the default. */
export function option(name: string, env: string, fallback: number): number {
  const flag = process.argv.find((a) => a.startsWith(`--${name}=`));
  const raw = flag ? flag.slice(name.length + 3) : process.env[env];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} / ${env} must be a non-negative number, got ${raw}`);
  return value;
}

export function listOption(name: string, env: string, fallback: number[]): number[] {
  const flag = process.argv.find((a) => a.startsWith(`--${name}=`));
  const raw = flag ? flag.slice(name.length + 3) : process.env[env];
  if (!raw) return fallback;
  return raw.split(',').map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0)
      throw new Error(`--${name} / ${env} must be positive integers, comma-separated, got ${raw}`);
    return n;
  });
}

/** Runs a benchmark's main: prints why it failed and sets the exit code. */
export function runBench(bench: string, main: () => Promise<Failures>): void {
  main()
    .then((failures) => process.exit(failures.exitCode(bench)))
    .catch((err) => {
      console.error(`[${bench}] FAILED:`, err);
      process.exit(1);
    });
}
