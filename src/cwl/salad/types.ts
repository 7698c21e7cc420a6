/**
 * The building blocks of the CWL record descriptions: what each field accepts and which
 * Schema Salad rewrite (identifier map, type shorthand, secondary-files shorthand, URI
 * resolution) applies to it before its value is checked.
 */
import type { UriRule } from './uri.js';

/** The values a field accepts, and the rewrite applied to them before the check. */
export type FieldType =
  | { kind: 'string' | 'int' | 'float' | 'boolean' | 'null' | 'any' | 'expression' }
  | { kind: 'enum'; symbols: readonly string[] }
  | { kind: 'record'; name: string }
  | { kind: 'array'; items: FieldType }
  | { kind: 'union'; alternatives: readonly FieldType[] }
  | { kind: 'uri'; inner: FieldType; rule: UriRule }
  | { kind: 'idmap'; inner: FieldType; subject: string; predicate: string }
  | { kind: 'typeDsl'; inner: FieldType; refScope: number }
  | { kind: 'secondaryFilesDsl'; inner: FieldType };

/** One field of a record, loaded only when present unless `required`. */
export interface FieldSpec {
  name: string;
  type: FieldType;
  required: boolean;
}

/** A CWL record type: its fields in loading order, the first being its identifier if any. */
export interface RecordSpec {
  name: string;
  /** `id` or `name` when the record carries an identifier that scopes its children. */
  identifier?: string;
  fields: readonly FieldSpec[];
  /** Names of all fields, identifier and `class` included. */
  known: ReadonlySet<string>;
}

export const STRING: FieldType = { kind: 'string' };
export const INT: FieldType = { kind: 'int' };
export const FLOAT: FieldType = { kind: 'float' };
export const BOOLEAN: FieldType = { kind: 'boolean' };
export const NULL: FieldType = { kind: 'null' };
export const ANY: FieldType = { kind: 'any' };
export const EXPRESSION: FieldType = { kind: 'expression' };

/** Accepts one of `symbols`. */
export function oneOf(symbols: readonly string[]): FieldType {
  return { kind: 'enum', symbols };
}

/** Accepts a mapping loaded as the record type `name`. */
export function record(name: string): FieldType {
  return { kind: 'record', name };
}

/** Accepts a list whose items are `items`; nested lists are flattened into it. */
export function listOf(items: FieldType): FieldType {
  return { kind: 'array', items };
}

/** Accepts the first of `alternatives` that the value matches, tried in order. */
export function union(...alternatives: FieldType[]): FieldType {
  return { kind: 'union', alternatives };
}

/** Accepts `inner` or null; a field of this type may be left out. */
export function optional(...alternatives: FieldType[]): FieldType {
  return union(NULL, ...alternatives);
}

/** Resolves the strings of the value as URIs under `rule`, then checks them as `inner`. */
export function uri(inner: FieldType, rule: Partial<UriRule>): FieldType {
  return { kind: 'uri', inner, rule: { scopedId: false, vocabTerm: false, ...rule } };
}

/** Turns a mapping `{key: value}` into a list of records keyed by `subject`. */
export function idMap(inner: FieldType, subject: string, predicate: string): FieldType {
  return { kind: 'idmap', inner, subject, predicate };
}

/** Expands the `T[]` and `T?` shorthands and resolves type names two scopes up. */
export function typeDsl(inner: FieldType): FieldType {
  return { kind: 'typeDsl', inner, refScope: 2 };
}

/** Expands `".bai"` and `".bai?"` into secondary-file patterns. */
export function secondaryFilesDsl(inner: FieldType): FieldType {
  return { kind: 'secondaryFilesDsl', inner };
}

/** True when the type accepts null, so that the field it describes may be left out. */
export function acceptsNull(type: FieldType): boolean {
  switch (type.kind) {
    case 'null':
      return true;
    case 'union':
      return type.alternatives.some(acceptsNull);
    case 'uri':
    case 'idmap':
    case 'typeDsl':
    case 'secondaryFilesDsl':
      return acceptsNull(type.inner);
    default:
      return false;
  }
}

/** Builds a record description from `[name, type]` pairs, the identifier first if any. */
export function defineRecord(
  name: string,
  identifier: string | undefined,
  fields: ReadonlyArray<readonly [string, FieldType]>,
): RecordSpec {
  const specs = fields.map(([fieldName, type]) => ({
    name: fieldName,
    type,
    required: fieldName !== identifier && !acceptsNull(type),
  }));
  return { name, identifier, fields: specs, known: new Set(specs.map((field) => field.name)) };
}
