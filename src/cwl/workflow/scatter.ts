/**
 * ScatterFeatureRequirement: turning one step input object into the input objects of its
 * scatter jobs, and the jobs' outputs back into (possibly nested) arrays.
 */
import { CwlExecutionError, CwlValidationError } from '../../errors.js';

/** The scatter jobs of one step, in row-major order, and the shape of their results. */
export interface ScatterPlan {
  jobs: Record<string, unknown>[];
  /**
   * Array lengths of the result: one entry for dotproduct and flat_crossproduct, one per
   * scattered input for nested_crossproduct.
   */
  shape: number[];
}

/**
 * Expands `inputs` over the scattered input names with `method` (default dotproduct).
 * Throws CwlExecutionError when a scattered value is not an array or, for dotproduct, when
 * the arrays differ in length.
 */
export function expandScatter(
  inputs: Record<string, unknown>,
  names: string[],
  method: unknown,
  where: string,
): ScatterPlan {
  const arrays = names.map((name) => {
    const value = inputs[name];
    if (!Array.isArray(value)) {
      throw new CwlExecutionError(
        'CWL_SCATTER_FAILED',
        `scatter over ${where} input "${name}" needs an array, got ${describe(value)}`,
      );
    }
    return value;
  });

  const chosen = method ?? 'dotproduct';
  if (chosen === 'dotproduct' || names.length === 1)
    return dotProduct(inputs, names, arrays, where);
  if (chosen === 'nested_crossproduct' || chosen === 'flat_crossproduct') {
    const jobs = crossProduct(inputs, names, arrays);
    const lengths = arrays.map((array) => array.length);
    const shape = chosen === 'nested_crossproduct' ? lengths : [jobs.length];
    return { jobs, shape };
  }
  throw new CwlValidationError(
    'CWL_INVALID_DOCUMENT',
    `invalid scatterMethod ${JSON.stringify(chosen)} on ${where}: ` +
      'use dotproduct, nested_crossproduct or flat_crossproduct',
  );
}

function dotProduct(
  inputs: Record<string, unknown>,
  names: string[],
  arrays: unknown[][],
  where: string,
): ScatterPlan {
  const length = arrays[0]?.length ?? 0;
  const uneven = arrays.findIndex((array) => array.length !== length);
  if (uneven >= 0) {
    throw new CwlExecutionError(
      'CWL_SCATTER_FAILED',
      `dotproduct scatter over ${where} needs arrays of one length: ` +
        `"${names[0]}" has ${length} items and "${names[uneven]}" has ${arrays[uneven]?.length}`,
    );
  }
  const jobs: Record<string, unknown>[] = [];
  for (let index = 0; index < length; index++) {
    const job = { ...inputs };
    names.forEach((name, position) => (job[name] = arrays[position]?.[index]));
    jobs.push(job);
  }
  return { jobs, shape: [length] };
}

/** Returns every combination, with the last scattered input varying fastest. */
function crossProduct(
  inputs: Record<string, unknown>,
  names: string[],
  arrays: unknown[][],
): Record<string, unknown>[] {
  let jobs: Record<string, unknown>[] = [{ ...inputs }];
  names.forEach((name, position) => {
    const next: Record<string, unknown>[] = [];
    for (const job of jobs) {
      for (const item of arrays[position] ?? []) next.push({ ...job, [name]: item });
    }
    jobs = next;
  });
  return jobs;
}

/** Folds the flat list of job results into nested arrays of `shape`. */
export function reshape(flat: unknown[], shape: number[]): unknown[] {
  if (shape.length <= 1) return flat;
  const [length = 0, ...inner] = shape;
  const size = inner.reduce((product, n) => product * n, 1);
  const nested: unknown[] = [];
  for (let index = 0; index < length; index++) {
    nested.push(reshape(flat.slice(index * size, (index + 1) * size), inner));
  }
  return nested;
}

function describe(value: unknown): string {
  return (JSON.stringify(value) ?? String(value)).slice(0, 200);
}
