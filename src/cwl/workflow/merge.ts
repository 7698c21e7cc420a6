/**
 * Combining the values of several links into one input value: `linkMerge` and `pickValue`
 * of CWL v1.2, used by step inputs and by workflow outputs.
 */
import { CwlExecutionError, CwlValidationError } from '../../errors.js';

/** Method that combines the values of several sources. */
export type LinkMerge = 'merge_nested' | 'merge_flattened';

/** Method that selects among the values of the sources, dropping nulls. */
export type PickValue = 'first_non_null' | 'the_only_non_null' | 'all_non_null';

/**
 * Merges the values of a parameter's sources. One source without `linkMerge` gives its value
 * unchanged. `merge_nested` (the default for several sources) gives one entry per source, and
 * `merge_flattened` concatenates array values and appends the others.
 */
export function mergeSources(
  values: unknown[],
  linkMerge: unknown,
  hasManySources: boolean,
  where: string,
): unknown {
  if (linkMerge === undefined || linkMerge === null) {
    return hasManySources ? values : (values[0] ?? null);
  }
  if (linkMerge === 'merge_nested') return values;
  if (linkMerge === 'merge_flattened') {
    return values.flatMap((value) => (Array.isArray(value) ? value : [value]));
  }
  throw new CwlValidationError(
    'CWL_INVALID_DOCUMENT',
    `invalid linkMerge ${JSON.stringify(linkMerge)} on ${where}: use merge_nested or merge_flattened`,
  );
}

/**
 * Applies `pickValue` to a merged value, which must be a list (or null, taken as empty).
 * Throws CwlExecutionError when `first_non_null` finds no value or `the_only_non_null` finds
 * none or several, as CWL v1.2 requires.
 */
export function pickValue(value: unknown, method: unknown, where: string): unknown {
  if (method === undefined || method === null) return value;
  const list = value === null || value === undefined ? [] : value;
  if (!Array.isArray(list)) {
    throw new CwlExecutionError(
      'CWL_PICK_VALUE_FAILED',
      `pickValue ${String(method)} on ${where} needs a list of values, got ${describe(value)}`,
    );
  }
  const present = list.filter((item) => item !== null && item !== undefined);

  switch (method) {
    case 'first_non_null':
      if (present.length === 0) throw pickError(where, String(method), 'every source is null');
      return present[0];
    case 'the_only_non_null':
      if (present.length === 0) throw pickError(where, String(method), 'every source is null');
      if (present.length > 1) {
        throw pickError(where, String(method), `${present.length} sources are not null`);
      }
      return present[0];
    case 'all_non_null':
      return present;
    default:
      throw new CwlValidationError(
        'CWL_INVALID_DOCUMENT',
        `invalid pickValue ${JSON.stringify(method)} on ${where}: ` +
          'use first_non_null, the_only_non_null or all_non_null',
      );
  }
}

function pickError(where: string, method: string, reason: string): CwlExecutionError {
  return new CwlExecutionError(
    'CWL_PICK_VALUE_FAILED',
    `pickValue ${method} on ${where} failed: ${reason}`,
  );
}

function describe(value: unknown): string {
  return (JSON.stringify(value) ?? String(value)).slice(0, 200);
}
