import { ensureTemporalBinaries } from '../scripts/temporal-binaries';

/** Finds (or installs) the Temporal binaries once; test workers inherit the paths. */
export default function globalSetup(): void {
  const found = ensureTemporalBinaries();
  process.env.TEMPORAL_CLI_PATH = found.cli;
  process.env.TEMPORAL_TEST_SERVER_PATH = found.testServer;
}
