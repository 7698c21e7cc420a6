/**
 * Loads a value against a field type: checks it, applies the Schema Salad rewrites on the way
 * and returns plain JSON, or the issues that reject it. Every union alternative is tried in
 * order, as cwl-ts-auto 0.1.3 does, but a failure is a returned value, never an exception.
 */
import { randomUuid } from '../names.js';
import { valueIssue, showValue, type LoadIssue } from './issues.js';
import { RECORDS } from './schema.js';
import { loadDsl } from './dsl.js';
import { loadReference } from './documents.js';
import type { FieldType, RecordSpec } from './types.js';
import { expandUrl, type UriContext } from './uri.js';

/** Reads the text of a `file://` URL; throws when it cannot. */
export type TextFetcher = (url: string) => string;

/** Everything a load needs besides the value: prefixes, the current file and a cache. */
export interface LoadState {
  context: UriContext;
  /** URL of the file being read, against which `$import` and `$include` resolve. */
  fileUri: string;
  fetchText: TextFetcher;
  /** Parsed documents by URL, shared by the whole load. */
  index: Map<string, unknown>;
}

/** The result of loading a value. */
export type Outcome = { ok: true; value: unknown } | { ok: false; issue: LoadIssue };

/** Returns a successful outcome. */
export function success(value: unknown): Outcome {
  return { ok: true, value };
}

/** Returns a failed outcome. */
export function failure(issue: LoadIssue): Outcome {
  return { ok: false, issue };
}

/** True for a YAML mapping. */
export function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const itemTypes = new WeakMap<FieldType, FieldType>();

function describeKind(type: FieldType): string {
  switch (type.kind) {
    case 'int':
      return 'an integer';
    case 'float':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'null':
      return 'null';
    case 'any':
      return 'a value';
    default:
      return 'a string';
  }
}

function checkScalar(type: FieldType, value: unknown): Outcome {
  let valid: boolean;
  switch (type.kind) {
    case 'int':
      valid = Number.isInteger(value);
      break;
    case 'float':
      valid = typeof value === 'number';
      break;
    case 'boolean':
      valid = typeof value === 'boolean';
      break;
    case 'null':
      valid = value === null || value === undefined;
      break;
    case 'any':
      return value === null || value === undefined
        ? failure(valueIssue('expected a value, got nothing'))
        : success(structuredClone(value));
    default:
      valid = typeof value === 'string';
  }
  if (valid) return success(value);
  return failure(valueIssue(`expected ${describeKind(type)}, got ${showValue(value)}`));
}

/** Loads `value` as `type`; `docRoot` is the id a top-level record takes when it has none. */
export function loadValue(
  type: FieldType,
  value: unknown,
  base: string | null,
  state: LoadState,
  docRoot?: string,
): Outcome {
  switch (type.kind) {
    case 'enum':
      if (typeof value === 'string' && type.symbols.includes(value)) return success(value);
      return failure(
        valueIssue(`expected one of ${type.symbols.join(', ')}, got ${showValue(value)}`),
      );
    case 'record': {
      if (!isMapping(value)) {
        return failure(valueIssue(`expected a ${type.name} mapping, got ${showValue(value)}`));
      }
      return loadRecord(RECORDS.get(type.name)!, value, base, state, docRoot);
    }
    case 'array':
      return loadList(type, value, base, state);
    case 'union':
      return loadUnion(type.alternatives, value, base, state, docRoot);
    case 'uri':
    case 'idmap':
    case 'typeDsl':
    case 'secondaryFilesDsl':
      return loadDsl(type, value, base, state, docRoot);
    default:
      return checkScalar(type, value);
  }
}

function loadUnion(
  alternatives: readonly FieldType[],
  value: unknown,
  base: string | null,
  state: LoadState,
  docRoot?: string,
): Outcome {
  const issues: LoadIssue[] = [];
  for (const alternative of alternatives) {
    const outcome = loadValue(alternative, value, base, state, docRoot);
    if (outcome.ok || outcome.issue.fatal === true) return outcome;
    issues.push(outcome.issue);
  }
  return failure({ message: 'no alternative matched', kind: 'union', children: issues });
}

/** Loads a list. Each item may itself be a list, whose items are spliced in. */
function loadList(
  type: FieldType & { kind: 'array' },
  value: unknown,
  base: string | null,
  state: LoadState,
): Outcome {
  if (!Array.isArray(value)) return failure(valueIssue(`expected a list, got ${showValue(value)}`));
  let itemType = itemTypes.get(type);
  if (itemType === undefined) {
    itemType = { kind: 'union', alternatives: [type, type.items] };
    itemTypes.set(type, itemType);
  }
  const result: unknown[] = [];
  const issues: LoadIssue[] = [];
  for (const item of value) {
    const outcome = loadField(itemType, item, base, state);
    if (!outcome.ok && outcome.issue.fatal === true) return outcome;
    if (!outcome.ok) issues.push(outcome.issue);
    else if (Array.isArray(outcome.value)) result.push(...(outcome.value as unknown[]));
    else result.push(outcome.value);
  }
  if (issues.length > 0) return failure({ message: 'list', kind: 'union', children: issues });
  return success(result);
}

/** Loads the value of a record field or list item, following `$import` and `$include`. */
export function loadField(
  type: FieldType,
  value: unknown,
  base: string | null,
  state: LoadState,
): Outcome {
  if (isMapping(value) && ('$import' in value || '$include' in value)) {
    return loadReference(type, value, base, state);
  }
  return loadValue(type, value, base, state);
}

function fieldIssue(name: string, issue: LoadIssue): LoadIssue {
  return { message: name, kind: 'field', children: [issue], fatal: issue.fatal };
}

/** Returns the short id or the class of a record, for the path in messages, or ''. */
function recordLabel(value: Record<string, unknown>, id: unknown): string {
  if (typeof value.class === 'string') return value.class;
  if (typeof id === 'string' && !id.startsWith('_')) {
    return (
      id
        .slice(id.lastIndexOf('#') + 1)
        .split('/')
        .pop() ?? id
    );
  }
  return '';
}

function loadIdentifier(
  spec: RecordSpec,
  value: Record<string, unknown>,
  base: string | null,
  state: LoadState,
  issues: LoadIssue[],
): Outcome {
  const name = spec.identifier!;
  if (!(name in value)) return success(undefined);
  const outcome = loadField(spec.fields[0]!.type, value[name], base, state);
  if (outcome.ok || outcome.issue.fatal === true) return outcome;
  issues.push(fieldIssue(name, outcome.issue));
  return success(undefined);
}

/**
 * Loads a mapping as the record `spec`. A record without its identifier takes `docRoot`, or a
 * fresh blank id `_<uuid>`; a record with one becomes the base of its children's ids.
 */
function loadRecord(
  spec: RecordSpec,
  value: Record<string, unknown>,
  base: string | null,
  state: LoadState,
  docRoot?: string,
): Outcome {
  const issues: LoadIssue[] = [];
  const output: Record<string, unknown> = {};
  let id: unknown;
  if (spec.identifier !== undefined) {
    const outcome = loadIdentifier(spec, value, base, state, issues);
    if (!outcome.ok) return outcome;
    id = outcome.value;
    if (id === undefined) id = docRoot ?? `_${randomUuid()}`;
    else base = id as string | null;
  }

  const fields: Record<string, unknown> = {};
  for (const field of spec.fields) {
    if (field.name === spec.identifier) continue;
    if (!field.required && !(field.name in value)) continue;
    if (field.required && value[field.name] === undefined) {
      issues.push(valueIssue(`required field \`${field.name}\` is missing`));
      continue;
    }
    const outcome = loadField(field.type, value[field.name], base, state);
    if (outcome.ok) fields[field.name] = outcome.value;
    else if (outcome.issue.fatal === true) return outcome;
    else issues.push(fieldIssue(field.name, outcome.issue));
  }

  for (const key of Object.keys(value)) {
    if (spec.known.has(key)) continue;
    if (!key.includes(':')) {
      const known = [...spec.known].map((name) => `\`${name}\``).join(', ');
      issues.push(valueIssue(`invalid field \`${key}\`, expected one of: ${known}`));
      break;
    }
    const expanded = expandUrl(key, '', { scopedId: false, vocabTerm: false }, state.context);
    if (typeof expanded !== 'string') {
      const message = `extension field \`${key}\` uses a prefix that \`$namespaces\` does not declare`;
      const children = [valueIssue(message, true)];
      return failure({ message: recordLabel(value, id), kind: 'record', children, fatal: true });
    }
    // cwl-ts-auto 0.1.3 saves every extension field with an undefined value.
    output[expanded] = undefined;
  }

  const label = recordLabel(value, id);
  if (issues.length > 0) return failure({ message: label, kind: 'record', children: issues });
  if (spec.identifier !== undefined && id !== null) output[spec.identifier] = id;
  for (const [name, fieldValue] of Object.entries(fields)) {
    if (fieldValue !== null && fieldValue !== undefined) output[name] = fieldValue;
  }
  return success(output);
}
