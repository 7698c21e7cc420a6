/**
 * Walking normalised CWL types: resolving named types, picking the branch of a union that a
 * value matches, and telling optional types apart.
 */
import { asArray, findRequirement, isObject, localName, type CwlObject } from './model.js';

/** A normalised CWL type: a name, a union (array) or an array/record/enum schema. */
export type CwlType = string | CwlObject | CwlType[];

/** Named types of a process, by full IRI. */
export type NamedTypes = Map<string, CwlObject>;

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
  'stdin',
]);

/**
 * Collects the named types of `process`: the `SchemaDefRequirement` types and every named
 * record, enum or array schema written inline in inputs and outputs. cwl-ts-auto 0.1.3 keeps
 * references to these by name only, so the engine resolves them through this map.
 */
export function collectNamedTypes(process: CwlObject): NamedTypes {
  const named: NamedTypes = new Map();
  const schemaDefs = findRequirement(process, 'SchemaDefRequirement')?.requirement.types;
  for (const type of asArray(schemaDefs)) addNamed(type as CwlType, named);
  for (const parameter of [...asArray(process.inputs), ...asArray(process.outputs)]) {
    if (isObject(parameter)) addNamed(parameter.type as CwlType, named);
  }
  return named;
}

function addNamed(type: CwlType | undefined, named: NamedTypes): void {
  if (Array.isArray(type)) {
    for (const branch of type) addNamed(branch, named);
    return;
  }
  if (!isObject(type)) return;
  if (typeof type.name === 'string' && ['record', 'enum'].includes(String(type.type))) {
    named.set(type.name, type);
  }
  addNamed(type.items as CwlType | undefined, named);
  for (const field of asArray(type.fields)) {
    if (isObject(field)) addNamed(field.type as CwlType, named);
  }
}

/** Replaces a reference to a named type by its definition; other types are returned unchanged. */
export function resolveType(type: CwlType, named: NamedTypes): CwlType {
  if (typeof type !== 'string' || PRIMITIVES.has(type)) return type;
  const exact = named.get(type);
  if (exact !== undefined) return exact;
  // A reference written in another file may resolve to another base IRI than the definition.
  const short = localName(type);
  for (const [name, definition] of named) {
    if (localName(name) === short) return definition;
  }
  return type;
}

/** Returns whether `type` accepts null. */
export function isOptionalType(type: CwlType, named: NamedTypes): boolean {
  const resolved = resolveType(type, named);
  if (resolved === 'null' || resolved === 'Any') return resolved === 'null';
  return Array.isArray(resolved) && resolved.some((branch) => branch === 'null');
}

/**
 * Picks the branch of `type` that `value` matches, resolving named types. A non-union type is
 * returned resolved; undefined means no branch matches.
 */
export function matchBranch(type: CwlType, value: unknown, named: NamedTypes): CwlType | undefined {
  const resolved = resolveType(type, named);
  if (!Array.isArray(resolved)) return valueMatches(resolved, value, named) ? resolved : undefined;
  for (const branch of resolved) {
    const picked = matchBranch(branch, value, named);
    if (picked !== undefined) return picked;
  }
  return undefined;
}

function valueMatches(type: CwlType, value: unknown, named: NamedTypes): boolean {
  if (Array.isArray(type)) return matchBranch(type, value, named) !== undefined;
  if (isObject(type)) return schemaMatches(type, value, named);

  switch (type) {
    case 'null':
      return value === null || value === undefined;
    case 'Any':
      return value !== null && value !== undefined;
    case 'boolean':
      return typeof value === 'boolean';
    case 'int':
    case 'long':
      return typeof value === 'number' && Number.isInteger(value);
    case 'float':
    case 'double':
      return typeof value === 'number';
    case 'string':
      return typeof value === 'string';
    case 'File':
    case 'Directory':
    case 'stdout':
    case 'stderr':
      return isObject(value) && value.class === (type === 'Directory' ? 'Directory' : 'File');
    default:
      return false;
  }
}

function schemaMatches(type: CwlObject, value: unknown, named: NamedTypes): boolean {
  switch (type.type) {
    case 'array':
      return (
        Array.isArray(value) &&
        value.every((item) => matchBranch(type.items as CwlType, item, named) !== undefined)
      );
    case 'enum':
      return (
        typeof value === 'string' &&
        asArray(type.symbols).some((symbol) => localName(String(symbol)) === value)
      );
    case 'record':
      if (!isObject(value)) return false;
      return asArray(type.fields)
        .filter(isObject)
        .every((field) => {
          const fieldValue = value[localName(String(field.name))];
          return matchBranch(field.type as CwlType, fieldValue ?? null, named) !== undefined;
        });
    default:
      return false;
  }
}
