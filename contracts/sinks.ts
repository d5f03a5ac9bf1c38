/**
 * What workflows tell the worker's process without a command in their history (Temporal sinks):
 * the worker counts it in its metrics; replays never call it.
 */
import type { Sinks } from '@temporalio/workflow';

export interface CoexistSinks extends Sinks {
  metrics: {
    /** An onboarding left stage `from` (null: it has just started) for stage `to`. */
    stageChanged(from: string | null, to: string): void;
  };
}
