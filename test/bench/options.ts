/**
 * Command-line options of `npm run bench`, checked and defaulted in one place.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseSections, SECTION_NAMES, type SectionName } from './sections.js';

export const USAGE = `Usage: npm run bench -- [options]

Times ctao-pilot exec against cwltool --no-container and writes the results as Markdown.

Options:
  --suite DIR        CWL v1.2 conformance suite folder
                     (default: ../shared/cwl-conformance/v1.2 from the repository root)
  --ids x,y          run only these conformance test ids (default: every test)
  --jobs N           conformance tests run at once; 1 keeps the timings comparable (default: 1)
  --timeout S        limit per conformance test in seconds (default: 300)
  --scatter N        jobs in the scatter case (default: 1000)
  --startup-runs N   runs per command in the start-up case (default: 20)
  --skip-cwltool     time ctao-pilot only
  --only x,y         run only these sections of ${SECTION_NAMES.join(', ')} and keep the
                     others from the existing page (default: every section)
  --out FILE         Markdown file to write (default: BENCHMARKS.md in the repository root)
  --help             print this help`;

/** Checked options of one benchmark run. */
export interface BenchOptions {
  suiteDir: string;
  ids?: string[];
  jobs: number;
  timeoutSeconds: number;
  scatterJobs: number;
  startupRuns: number;
  skipCwltool: boolean;
  sections: Set<SectionName>;
  outFile: string;
  help: boolean;
}

/**
 * Parses the benchmark's arguments. Relative paths resolve against the current folder, and
 * defaults against `repoRoot`. Throws with the option name and the accepted values on bad input.
 */
export function parseBenchArgs(argv: string[], repoRoot: string): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      suite: { type: 'string' },
      ids: { type: 'string' },
      jobs: { type: 'string' },
      timeout: { type: 'string' },
      scatter: { type: 'string' },
      'startup-runs': { type: 'string' },
      'skip-cwltool': { type: 'boolean', default: false },
      only: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });

  const options: BenchOptions = {
    suiteDir: path.resolve(values.suite ?? path.join(repoRoot, '../shared/cwl-conformance/v1.2')),
    jobs: parsePositiveInteger('--jobs', values.jobs, 1),
    timeoutSeconds: parsePositiveInteger('--timeout', values.timeout, 300),
    scatterJobs: parsePositiveInteger('--scatter', values.scatter, 1000),
    startupRuns: parsePositiveInteger('--startup-runs', values['startup-runs'], 20),
    skipCwltool: values['skip-cwltool'],
    sections: parseSections(values.only),
    outFile: path.resolve(values.out ?? path.join(repoRoot, 'BENCHMARKS.md')),
    help: values.help,
  };
  if (values.ids !== undefined) {
    options.ids = values.ids
      .split(',')
      .map((id) => id.trim())
      .filter((id) => id !== '');
  }
  return options;
}

function parsePositiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) {
    return fallback;
  }
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) {
    throw new Error(`${name} "${value}" is invalid. Give a positive integer.`);
  }
  return number;
}
