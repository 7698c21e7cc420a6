/**
 * ResourceRequirement: the cores, memory and disk a tool requests, rounded up to whole units
 * and capped by what the run may use.
 */
import { CwlValidationError } from '../errors.js';
import type { Evaluator } from './evaluate.js';
import { findRequirement, type CwlObject } from './model.js';

/** Resources of one run, in the units of the CWL `runtime` object. */
export interface Resources {
  cores: number;
  /** Memory in MiB. */
  ram: number;
  /** Output folder space in MiB. */
  outdirSize: number;
  /** Temporary folder space in MiB. */
  tmpdirSize: number;
}

/** CWL v1.2 defaults when ResourceRequirement leaves a value out. */
const DEFAULTS: Resources = { cores: 1, ram: 256, outdirSize: 1024, tmpdirSize: 1024 };

const FIELDS: [keyof Resources, string, string][] = [
  ['cores', 'coresMin', 'coresMax'],
  ['ram', 'ramMin', 'ramMax'],
  ['outdirSize', 'outdirMin', 'outdirMax'],
  ['tmpdirSize', 'tmpdirMin', 'tmpdirMax'],
];

/**
 * Computes the resources of a run from ResourceRequirement: the minimum when given, else the
 * CWL default limited by the maximum. Fractions round up; `limits` caps cores and memory.
 * Throws CwlValidationError when a minimum exceeds its maximum or a value is not a number.
 */
export async function computeResources(
  process: CwlObject,
  evaluator: Evaluator,
  limits: { cores?: number; ramMb?: number; wholeShare?: boolean } = {},
): Promise<Resources> {
  const requirement = findRequirement(process, 'ResourceRequirement')?.requirement ?? {};
  const resources = { ...DEFAULTS };

  for (const [field, minKey, maxKey] of FIELDS) {
    const min = await readAmount(requirement, minKey, evaluator);
    const max = await readAmount(requirement, maxKey, evaluator);
    if (min !== undefined && max !== undefined && min > max) {
      throw new CwlValidationError(
        'CWL_INVALID_DOCUMENT',
        `invalid ResourceRequirement: ${minKey} ${min} is greater than ${maxKey} ${max}`,
      );
    }
    const requested = min ?? (max !== undefined ? Math.min(max, DEFAULTS[field]) : DEFAULTS[field]);
    resources[field] = Math.ceil(requested);
  }

  if (limits.cores !== undefined) {
    resources.cores = limits.wholeShare ? limits.cores : Math.min(resources.cores, limits.cores);
  }
  if (limits.ramMb !== undefined) {
    resources.ram = limits.wholeShare ? limits.ramMb : Math.min(resources.ram, limits.ramMb);
  }
  return resources;
}

async function readAmount(
  requirement: CwlObject,
  key: string,
  evaluator: Evaluator,
): Promise<number | undefined> {
  const value = await evaluator.evaluate(requirement[key], null);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new CwlValidationError(
      'CWL_INVALID_DOCUMENT',
      `invalid ResourceRequirement ${key}: ${JSON.stringify(value)} is not a non-negative number`,
    );
  }
  return value;
}
