/**
 * The recursive check behind `checkValue`. It returns failures as values instead of throwing,
 * so that trying the members of a union costs no exceptions.
 */
import { describeType, formatPath, shortName } from './types-describe.js';

/** State shared by one check: the named types and the current nesting depth. */
export interface CheckState {
  schemaDefs: Map<string, unknown> | undefined;
  depth: number;
}

/** Failure of a check: the path, the expected type, the value and an optional detail. */
export interface CheckFailure {
  ok: false;
  path: string;
  expected: string;
  value: unknown;
  detail?: string;
}

/** The normalised value, or the failure. */
export type CheckResult = { ok: true; value: unknown } | CheckFailure;

const PRIMITIVES = new Set([
  'null',
  'boolean',
  'int',
  'long',
  'float',
  'double',
  'string',
  'File',
  'Directory',
  'Any',
  'stdout',
  'stderr',
]);

// Primitive names written as full IRIs, such as `http://www.w3.org/2001/XMLSchema#int`.
const PRIMITIVE_NAMESPACES = [
  'http://www.w3.org/2001/XMLSchema#',
  'https://w3id.org/cwl/salad#',
  'https://w3id.org/cwl/cwl#',
];

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;
const MAX_DEPTH = 200;

/** Checks `value` against `type`. `path` names the value in a failure. */
export function checkType(
  type: unknown,
  value: unknown,
  path: string,
  state: CheckState,
): CheckResult {
  if (state.depth >= MAX_DEPTH) {
    return fail(path, describeType(type), value, `nested deeper than ${MAX_DEPTH} levels`);
  }
  state.depth += 1;
  try {
    return checkAnyType(type, value, path, state);
  } finally {
    state.depth -= 1;
  }
}

function checkAnyType(type: unknown, value: unknown, path: string, state: CheckState): CheckResult {
  if (typeof type === 'string') return checkNamed(type, value, path, state);
  if (Array.isArray(type)) return checkUnion(type, value, path, state);
  if (type === null || typeof type !== 'object') {
    return fail(path, String(type), value, 'the declared type is not a CWL type');
  }

  const schema = type as Record<string, unknown>;
  const kind = typeof schema.type === 'string' ? shortName(schema.type) : undefined;
  if (kind === 'array') return checkArray(schema, value, path, state);
  if (kind === 'record') return checkRecord(schema, value, path, state);
  if (kind === 'enum') return checkEnum(schema, value, path);
  if (schema.type !== undefined) return checkType(schema.type, value, path, state);
  return fail(path, describeType(type), value, 'the declared type has no "type" field');
}

function checkNamed(name: string, value: unknown, path: string, state: CheckState): CheckResult {
  const primitive = primitiveName(name);
  if (primitive !== undefined) return checkPrimitive(primitive, value, path, state);

  const named = findSchemaDef(name, state.schemaDefs);
  if (named !== undefined) return checkType(named, value, path, state);

  // The shorthands of CWL v1.2: `T?` is [null, T] and `T[]` is an array of T.
  if (name.endsWith('?')) return checkUnion(['null', name.slice(0, -1)], value, path, state);
  if (name.endsWith('[]')) {
    return checkArray({ type: 'array', items: name.slice(0, -2) }, value, path, state);
  }
  return fail(path, name, value, 'no such type: declare it in SchemaDefRequirement');
}

function primitiveName(name: string): string | undefined {
  if (PRIMITIVES.has(name)) return name;
  for (const namespace of PRIMITIVE_NAMESPACES) {
    if (name.startsWith(namespace) && PRIMITIVES.has(name.slice(namespace.length))) {
      return name.slice(namespace.length);
    }
  }
  return undefined;
}

const shortNameIndexes = new WeakMap<Map<string, unknown>, Map<string, unknown>>();

function findSchemaDef(name: string, schemaDefs: Map<string, unknown> | undefined): unknown {
  if (schemaDefs === undefined) return undefined;
  const exact = schemaDefs.get(name);
  if (exact !== undefined) return exact;

  let byShortName = shortNameIndexes.get(schemaDefs);
  if (byShortName === undefined || byShortName.size === 0) {
    byShortName = new Map();
    for (const [key, type] of schemaDefs) byShortName.set(shortName(key), type);
    shortNameIndexes.set(schemaDefs, byShortName);
  }
  return byShortName.get(shortName(name));
}

function checkPrimitive(
  name: string,
  value: unknown,
  path: string,
  state: CheckState,
): CheckResult {
  switch (name) {
    case 'null':
      return value === null || value === undefined ? pass(null) : fail(path, name, value);
    case 'boolean':
      return typeof value === 'boolean' ? pass(value) : fail(path, name, value);
    case 'int':
      return checkInteger(value, path, 'int', BigInt(INT_MIN), BigInt(INT_MAX));
    case 'long':
      return checkInteger(value, path, 'long', LONG_MIN, LONG_MAX);
    case 'float':
    case 'double':
      if (typeof value === 'number') return pass(value);
      return typeof value === 'bigint' ? pass(Number(value)) : fail(path, name, value);
    case 'string':
      return typeof value === 'string' ? pass(value) : fail(path, name, value);
    case 'Any':
      return value === null || value === undefined
        ? fail(path, 'Any', value, 'Any accepts every value except null')
        : pass(value);
    case 'Directory':
      return checkFileObject('Directory', value, path, state);
    default:
      // File, and the output-only types stdout and stderr, which are Files.
      return checkFileObject('File', value, path, state);
  }
}

function checkInteger(
  value: unknown,
  path: string,
  name: string,
  min: bigint,
  max: bigint,
): CheckResult {
  if (typeof value === 'bigint') {
    if (value < min || value > max) return fail(path, name, value, 'out of range');
    const isSafe =
      value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER);
    return pass(isSafe ? Number(value) : value);
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) return fail(path, name, value);
  if (value < Number(min) || value > Number(max)) return fail(path, name, value, 'out of range');
  return pass(value);
}

function checkFileObject(
  className: 'File' | 'Directory',
  value: unknown,
  path: string,
  state: CheckState,
): CheckResult {
  if (!isPlainObject(value) || value.class !== className) {
    return fail(path, className, value, `a ${className} is an object with "class": "${className}"`);
  }
  const literalField = className === 'File' ? 'contents' : 'listing';
  const hasSource = ['location', 'path', literalField].some((key) => value[key] !== undefined);
  if (!hasSource) {
    return fail(path, className, value, `it needs "location", "path" or "${literalField}"`);
  }
  for (const key of ['location', 'path', 'basename', 'contents']) {
    if (value[key] !== undefined && typeof value[key] !== 'string') {
      return fail(formatPath(path, key), 'string', value[key]);
    }
  }

  const nestedKey = className === 'File' ? 'secondaryFiles' : 'listing';
  const nested = value[nestedKey];
  if (nested === undefined || nested === null) return pass(value);
  const nestedPath = formatPath(path, nestedKey);
  const result = checkArray(
    { type: 'array', items: ['File', 'Directory'] },
    nested,
    nestedPath,
    state,
  );
  return result.ok ? pass(value) : result;
}

function checkUnion(
  members: unknown[],
  value: unknown,
  path: string,
  state: CheckState,
): CheckResult {
  let closest: CheckFailure | undefined;
  for (const member of members) {
    const result = checkType(member, value, path, state);
    if (result.ok) return result;
    if (
      result.path !== path &&
      (closest === undefined || result.path.length > closest.path.length)
    ) {
      closest = result;
    }
  }
  // A failure inside one member, such as a bad record field, is more useful than "no match".
  return closest ?? fail(path, describeType(members), value);
}

function checkArray(
  schema: Record<string, unknown>,
  value: unknown,
  path: string,
  state: CheckState,
): CheckResult {
  if (!Array.isArray(value)) return fail(path, describeType(schema), value);
  const items: unknown[] = [];
  for (let i = 0; i < value.length; i += 1) {
    const result = checkType(schema.items, value[i], formatPath(path, i), state);
    if (!result.ok) return result;
    items.push(result.value);
  }
  return pass(items);
}

function checkRecord(
  schema: Record<string, unknown>,
  value: unknown,
  path: string,
  state: CheckState,
): CheckResult {
  if (!isPlainObject(value)) return fail(path, describeType(schema), value);
  const record: Record<string, unknown> = { ...value };

  for (const field of recordFields(schema.fields)) {
    const fieldPath = formatPath(path, field.name);
    const fieldValue = value[field.name];
    const result = checkType(field.type, fieldValue ?? null, fieldPath, state);
    if (!result.ok) {
      if (fieldValue !== undefined) return result;
      return fail(fieldPath, describeType(field.type), undefined, 'missing required field');
    }
    if (fieldValue !== undefined) record[field.name] = result.value;
  }
  return pass(record);
}

/** Returns the fields of a record type, from the list form or the map form, by short name. */
function recordFields(fields: unknown): { name: string; type: unknown }[] {
  if (Array.isArray(fields)) {
    return fields.filter(isPlainObject).map((field) => ({
      name: shortName(String(field.name)),
      type: field.type,
    }));
  }
  if (!isPlainObject(fields)) return [];
  return Object.entries(fields).map(([name, declaration]) => ({
    name: shortName(name),
    type: fieldTypeOf(declaration),
  }));
}

/**
 * Returns the type of a map-form field declaration: `a: int`, `a: {type: int, doc: ...}`, or
 * `a: {type: enum, symbols: [...]}`, where the declaration is itself the type.
 */
function fieldTypeOf(declaration: unknown): unknown {
  if (!isPlainObject(declaration) || !('type' in declaration)) return declaration;
  const kind = typeof declaration.type === 'string' ? shortName(declaration.type) : undefined;
  const isSchema = kind === 'array' || kind === 'record' || kind === 'enum';
  return isSchema ? declaration : declaration.type;
}

function checkEnum(schema: Record<string, unknown>, value: unknown, path: string): CheckResult {
  const symbols = Array.isArray(schema.symbols) ? schema.symbols.map(String) : [];
  if (typeof value === 'string') {
    for (const symbol of symbols) {
      if (symbol === value || shortName(symbol) === value) return pass(shortName(symbol));
    }
  }
  return fail(path, describeType(schema), value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function pass(value: unknown): CheckResult {
  return { ok: true, value };
}

function fail(path: string, expected: string, value: unknown, detail?: string): CheckFailure {
  return detail === undefined
    ? { ok: false, path, expected, value }
    : { ok: false, path, expected, value, detail };
}
