/**
 * CWL v1.2 type checking of input values ("Data concepts"): primitives, File and Directory,
 * arrays, records, enums, unions and SchemaDefRequirement named types.
 *
 * Types are plain JSON as the loader produces them. A type is one of:
 * - a primitive name such as `"int"`, also with the `?` and `[]` shorthands;
 * - an array, meaning a union;
 * - `{type: 'array', items}`, `{type: 'enum', symbols}`, or `{type: 'record', fields}` with
 *   fields as a list or a map;
 * - the name of a SchemaDefRequirement type.
 */
import { CwlValidationError } from '../errors.js';
import { checkType } from './types-check.js';
import type { CheckState } from './types-check.js';
import { describeType, formatPath, shortName, shortenValue } from './types-describe.js';

export { describeType, shortName } from './types-describe.js';

/** Error code of an input value that does not match its declared type. */
export const INPUT_INVALID = 'CWL_INVALID_INPUT';

/** Options of {@link checkValue} and {@link applyDefaultsAndCheck}. */
export interface TypeCheckOptions {
  /** SchemaDefRequirement types by name. A type also matches by its short name. */
  schemaDefs?: Map<string, unknown>;
  /** Path of the value in messages, such as `inputs.reads`. Default: `value`. */
  path?: string;
  /** Where the value comes from, so that an error message names what to change. */
  source?: 'input object' | 'default';
}

/** A process input or record field: its id, declared type and optional default value. */
export interface ParameterDeclaration {
  id: string;
  type: unknown;
  default?: unknown;
}

/**
 * Checks `value` against the CWL type `type` and returns it normalised: enum symbols become
 * short names, bigint values within 2^53 become numbers, record values are new objects.
 * A union takes the first member type that matches.
 *
 * NOTE: `int` is a 32-bit and `long` a 64-bit signed integer. A JavaScript number is exact only
 * up to 2^53, so a `long` beyond that must arrive as a bigint to keep its digits. A number
 * that already lost precision while the input object was parsed is accepted as it is.
 *
 * @throws CwlValidationError (`CWL_INVALID_INPUT`) naming the path of the first value that
 *   does not match, the expected type and the value.
 */
export function checkValue(type: unknown, value: unknown, options: TypeCheckOptions = {}): unknown {
  const state: CheckState = { schemaDefs: options.schemaDefs, depth: 0 };
  const path = options.path ?? 'value';
  const result = checkType(type, value, path, state);
  if (result.ok) return result.value;

  throw new CwlValidationError(
    INPUT_INVALID,
    `Invalid value for ${result.path}: expected ${result.expected}, got ${shortenValue(result.value)}` +
      `${result.detail === undefined ? '' : ` (${result.detail})`}. ` +
      (options.source === 'default'
        ? "Change the parameter's default in the document so that it matches the declared type."
        : 'Change the input object so that the value matches the declared type.'),
  );
}

/**
 * Returns a copy of the input object `job` with defaults applied and every declared input
 * checked and normalised by {@link checkValue}. A missing or null value takes the parameter's
 * default. Keys of `job` that no parameter declares are kept unchecked, as CWL allows.
 *
 * @throws CwlValidationError (`CWL_INVALID_INPUT`) for a missing required input or a value
 *   that does not match its type; the message names the input.
 */
export function applyDefaultsAndCheck(
  parameters: readonly ParameterDeclaration[],
  job: Record<string, unknown>,
  options: TypeCheckOptions = {},
): Record<string, unknown> {
  const result: Record<string, unknown> = { ...job };

  for (const parameter of parameters) {
    const name = shortName(parameter.id);
    const path = formatPath('inputs', name);
    let value = job[name];
    if ((value === undefined || value === null) && parameter.default !== undefined) {
      value = structuredClone(parameter.default);
    }

    if (value === undefined || value === null) {
      const nullResult = checkType(parameter.type, null, path, {
        schemaDefs: options.schemaDefs,
        depth: 0,
      });
      if (!nullResult.ok) throw missingInput(path, parameter.type, value);
      result[name] = null;
      continue;
    }

    result[name] = checkValue(parameter.type, value, { ...options, path });
  }
  return result;
}

function missingInput(path: string, type: unknown, value: null | undefined): CwlValidationError {
  const typeText = describeType(type);
  if (value === null) {
    return new CwlValidationError(
      INPUT_INVALID,
      `Input ${path} is null, but its type ${typeText} does not accept null: ` +
        'give it a value or a default, or declare the type optional.',
    );
  }
  return new CwlValidationError(
    INPUT_INVALID,
    `Missing required input ${path} of type ${typeText}: ` +
      'add it to the input object or give the parameter a default.',
  );
}
