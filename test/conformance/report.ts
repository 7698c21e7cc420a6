/**
 * Totals, the per-tag table, the JSON report and the pass floor of a conformance run.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestResult } from './execute.js';
import { SELECT_FILTERS, type SelectFilter } from './select.js';

export interface Totals {
  passed: number;
  failed: number;
  unsupported: number;
  total: number;
}

/** Minimum a run must reach, read from a JSON file such as `test/conformance/floor.json`. */
export interface Floor {
  /** Fewest passed tests that keep the run green. */
  min_passed: number;
  /** Tags the floor was measured on, the selection when no `--tags`, `--ids` or `--select` is given. */
  tags?: string[];
  /** `--select` filters the floor was measured on, applied together with `tags`. */
  select?: SelectFilter[];
}

/** Contents of the JSON report file. */
export interface Report {
  suite: string;
  runner: string[];
  started: string;
  totals: Totals;
  tests: TestResult[];
}

/** Counts passed, failed and unsupported results. */
export function countTotals(results: TestResult[]): Totals {
  const totals: Totals = { passed: 0, failed: 0, unsupported: 0, total: results.length };
  for (const result of results) {
    totals[result.status] += 1;
  }
  return totals;
}

/** Counts results per tag, sorted by tag. A test with several tags counts once in each. */
export function totalsByTag(results: TestResult[]): Map<string, Totals> {
  const byTag = new Map<string, TestResult[]>();
  for (const result of results) {
    for (const tag of result.tags) {
      byTag.set(tag, [...(byTag.get(tag) ?? []), result]);
    }
  }
  const tags = [...byTag.keys()].sort();
  return new Map(tags.map((tag) => [tag, countTotals(byTag.get(tag) ?? [])]));
}

/** Formats the per-tag table, with pass % = passed / total, unsupported tests included. */
export function formatTagTable(results: TestResult[]): string {
  const header = ['tag', 'passed', 'failed', 'unsupported', 'total', 'pass %'];
  const rows = [...totalsByTag(results)].map(([tag, totals]) => [
    tag,
    String(totals.passed),
    String(totals.failed),
    String(totals.unsupported),
    String(totals.total),
    formatPercent(totals.passed, totals.total),
  ]);

  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const formatRow = (cells: string[]) =>
    cells
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        return column === 0 ? cell.padEnd(width) : cell.padStart(width);
      })
      .join('  ');
  return [formatRow(header), ...rows.map(formatRow)].join('\n');
}

/** Formats the last line of a run: `N passed, N failed, N unsupported`. */
export function formatTotalsLine(totals: Totals): string {
  return `${totals.passed} passed, ${totals.failed} failed, ${totals.unsupported} unsupported`;
}

function formatPercent(part: number, whole: number): string {
  return whole === 0 ? '-' : ((100 * part) / whole).toFixed(1);
}

/** Writes the report as indented JSON, creating its folder when missing. */
export function writeReport(file: string, report: Report): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}

/** Reads and validates a floor file. Throws with the file name when a field is invalid. */
export function readFloor(file: string): Floor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`Floor file ${file} is missing or not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`Floor file ${file} must contain a JSON object with "min_passed".`);
  }

  const { min_passed: minPassed, tags, select } = parsed as Record<string, unknown>;
  if (typeof minPassed !== 'number' || !Number.isInteger(minPassed) || minPassed < 0) {
    throw new Error(`Floor file ${file}: "min_passed" must be an integer >= 0, got ${minPassed}.`);
  }
  if (tags !== undefined && !isStringList(tags)) {
    throw new Error(`Floor file ${file}: "tags" must be a list of strings.`);
  }
  if (select !== undefined && !(isStringList(select) && select.every(isSelectFilter))) {
    throw new Error(`Floor file ${file}: "select" must list some of ${SELECT_FILTERS.join(', ')}.`);
  }

  const floor: Floor = { min_passed: minPassed };
  if (tags !== undefined) {
    floor.tags = tags;
  }
  if (select !== undefined) {
    floor.select = select;
  }
  return floor;
}

/** Compares the passed count with the floor and returns the message to print. */
export function checkFloor(floor: Floor, totals: Totals): { ok: boolean; message: string } {
  if (totals.passed >= floor.min_passed) {
    return { ok: true, message: `Floor met: ${totals.passed} passed, floor ${floor.min_passed}.` };
  }
  return {
    ok: false,
    message:
      `Floor not met: ${totals.passed} passed, but the floor requires ${floor.min_passed}. ` +
      'Fix the regression, or lower min_passed in the floor file if the drop is intended.',
  };
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function isSelectFilter(value: string): value is SelectFilter {
  return (SELECT_FILTERS as readonly string[]).includes(value);
}
