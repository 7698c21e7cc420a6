/**
 * Runs the `pilot` and `packing` sections of `npm run bench` and returns their Markdown.
 */
import { benchPacking, type PackingBenchOptions } from './packing-bench.js';
import { benchPilot, type PilotBenchOptions } from './pilot-bench.js';
import { renderPackingSection, renderPilotSections } from './pilot-report.js';
import type { SectionName } from './sections.js';

/** Sizes of the full benchmark; the test of these sections passes smaller ones. */
export const PILOT_BENCH_DEFAULTS: PilotBenchOptions = {
  overheadJobs: 30,
  inputFileBytes: 1_000_000,
  throughputJobs: 100,
  throughputCores: 2,
  idleSeconds: 10,
  versionRuns: 20,
};

export const PACKING_BENCH_DEFAULTS: PackingBenchOptions = {
  corpusBytes: 50_000_000,
  rounds: 3,
};

/** Sizes of both sections, for callers that shrink them. */
export interface PilotSectionSizes {
  pilot?: Partial<PilotBenchOptions>;
  packing?: Partial<PackingBenchOptions>;
}

/**
 * Runs those of `pilot` and `packing` that `sections` selects, printing a progress line before
 * each, and returns the Markdown lines of their sections.
 */
export async function runPilotSections(
  sections: ReadonlySet<SectionName>,
  print: (line: string) => void,
  sizes: PilotSectionSizes = {},
): Promise<string[]> {
  const lines: string[] = [];
  if (sections.has('pilot')) {
    const options = { ...PILOT_BENCH_DEFAULTS, ...sizes.pilot };
    print(`Pilot: overhead over ${options.overheadJobs} jobs, ${options.throughputJobs} jobs`);
    lines.push(...renderPilotSections(await benchPilot(options)));
  }
  if (sections.has('packing')) {
    const options = { ...PACKING_BENCH_DEFAULTS, ...sizes.packing };
    print(`Output sandbox packing, ${(options.corpusBytes / 1e6).toFixed(0)} MB`);
    lines.push(...renderPackingSection(await benchPacking(options)));
  }
  return lines;
}
