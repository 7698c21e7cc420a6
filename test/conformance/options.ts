/**
 * Command-line options of the conformance runner, checked and defaulted in one place.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SELECT_FILTERS, type SelectFilter, type Selection } from './select.js';

export const USAGE = `Usage: npm run conformance -- [options]

Runs the CWL conformance suite, one runner process per test, and scores it like cwltest.

Options:
  --suite DIR       suite folder with conformance_tests.yaml
                    (default: ../shared/cwl-conformance/v1.2 from the repository root)
  --tags a,b        run tests that carry any of these tags
  --ids x,y         run only these test ids
  --select F,G      run tests that pass every filter: tools (tool is not a Workflow),
                    tool-tags (tagged command_line_tool or expression_tool),
                    no-docker (no DockerRequirement under requirements)
  --jobs N          tests run at once (default: number of cores)
  --runner CMD      runner command, split on spaces; relative paths of existing files resolve
                    against the current folder (default: node dist/ctao-pilot.cjs exec)
  --timeout S       limit per test in seconds, a timeout fails the test (default: 600)
  --report FILE     JSON report of every test (default: .conformance/report.json)
  --floor FILE      exit 1 when fewer tests pass than min_passed in this JSON file; its
                    "tags" and "select" apply when --tags, --ids and --select are absent
  --keep-outdirs    keep each test's output folder and list it in the report
  --list            print the selected test ids and exit
  --help            print this help`;

/** Checked options of one conformance run. */
export interface RunnerOptions {
  suiteDir: string;
  selection: Selection;
  /** True when `--tags`, `--ids` or `--select` was given, so a floor's selection must not apply. */
  hasExplicitSelection: boolean;
  jobs: number;
  runner: string[];
  timeoutSeconds: number;
  reportFile: string;
  floorFile?: string;
  keepOutdirs: boolean;
  list: boolean;
  help: boolean;
}

/**
 * Parses the runner's arguments. Relative paths resolve against the current directory, and
 * defaults against `repoRoot`. Throws with the option name and the accepted values on bad input.
 */
export function parseRunnerArgs(argv: string[], repoRoot: string): RunnerOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      suite: { type: 'string' },
      tags: { type: 'string' },
      ids: { type: 'string' },
      select: { type: 'string' },
      jobs: { type: 'string' },
      runner: { type: 'string' },
      timeout: { type: 'string' },
      report: { type: 'string' },
      floor: { type: 'string' },
      'keep-outdirs': { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });

  const selection: Selection = {};
  if (values.tags !== undefined) {
    selection.tags = splitList(values.tags);
  }
  if (values.ids !== undefined) {
    selection.ids = splitList(values.ids);
  }
  if (values.select !== undefined) {
    selection.filters = parseFilters(values.select);
  }

  const options: RunnerOptions = {
    suiteDir: path.resolve(values.suite ?? path.join(repoRoot, '../shared/cwl-conformance/v1.2')),
    selection,
    hasExplicitSelection: Object.keys(selection).length > 0,
    jobs: parsePositive('--jobs', values.jobs, availableParallelism(), true),
    runner: parseRunner(values.runner, repoRoot),
    timeoutSeconds: parsePositive('--timeout', values.timeout, 600, false),
    reportFile: path.resolve(values.report ?? path.join(repoRoot, '.conformance/report.json')),
    keepOutdirs: values['keep-outdirs'],
    list: values.list,
    help: values.help,
  };
  if (values.floor !== undefined) {
    options.floorFile = path.resolve(values.floor);
  }
  return options;
}

/** Default runner: the bundled pilot's `exec` command, started with this Node binary. */
export function defaultRunner(repoRoot: string): string[] {
  return [process.execPath, path.join(repoRoot, 'dist/ctao-pilot.cjs'), 'exec'];
}

function parseRunner(value: string | undefined, repoRoot: string): string[] {
  if (value === undefined) {
    return defaultRunner(repoRoot);
  }
  const words = value.split(' ').filter((word) => word !== '');
  if (words.length === 0) {
    throw new Error('--runner is empty. Give a command such as "cwltool --no-container".');
  }
  // Runs start in the suite folder, so a relative path to an existing file is made absolute
  // here, where the user typed it.
  return words.map((word) =>
    word.includes('/') && !path.isAbsolute(word) && existsSync(word) ? path.resolve(word) : word,
  );
}

function parseFilters(value: string): SelectFilter[] {
  return splitList(value).map((filter) => {
    if (!(SELECT_FILTERS as readonly string[]).includes(filter)) {
      throw new Error(`--select "${filter}" is invalid. Use one of: ${SELECT_FILTERS.join(', ')}.`);
    }
    return filter as SelectFilter;
  });
}

function parsePositive(
  name: string,
  value: string | undefined,
  fallback: number,
  integer: boolean,
): number {
  if (value === undefined) {
    return fallback;
  }
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0 || (integer && !Number.isInteger(number))) {
    const kind = integer ? 'a positive integer' : 'a positive number';
    throw new Error(`${name} "${value}" is invalid. Give ${kind}.`);
  }
  return number;
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
