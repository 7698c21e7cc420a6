/**
 * The Schema Salad rewrites applied to a value before it is checked: URI resolution, the map
 * form of lists (`inputs: {x: File}`), the type shorthands (`File[]?`) and the secondary-file
 * shorthand (`.bai?`).
 */
import { valueIssue, showValue } from './issues.js';
import { failure, isMapping, loadValue, type LoadState, type Outcome } from './load.js';
import type { FieldType } from './types.js';
import { expandUrl, type UriRule } from './uri.js';

type DslType = FieldType & { kind: 'uri' | 'idmap' | 'typeDsl' | 'secondaryFilesDsl' };

// `T`, `T[]`, `T?` and `T[]?`, where T contains no `[` or `?`.
const TYPE_SHORTHAND = /^([^[?]+)(\[\])?(\?)?$/;
const TYPE_RULE: UriRule = { scopedId: false, vocabTerm: true, refScope: 2 };

/** Applies the rewrite of `type` to `value`, then loads the result as the inner type. */
export function loadDsl(
  type: DslType,
  value: unknown,
  base: string | null,
  state: LoadState,
  docRoot?: string,
): Outcome {
  switch (type.kind) {
    case 'uri':
      return loadUri(type.inner, type.rule, value, base, state);
    case 'idmap':
      return loadValue(type.inner, toList(value, type.subject, type.predicate), base, state);
    case 'typeDsl':
      return loadTypeDsl(type.inner, value, base, state);
    default:
      return loadSecondaryFiles(type.inner, value, base, state, docRoot);
  }
}

function expandOne(url: string, base: string | null, rule: UriRule, state: LoadState) {
  if (base === null)
    return { failure: `cannot resolve "${url}": its parent has a null id`, fatal: true };
  return expandUrl(url, base, rule, state.context);
}

function loadUri(
  inner: FieldType,
  rule: UriRule,
  value: unknown,
  base: string | null,
  state: LoadState,
): Outcome {
  let expanded = value;
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (const item of value) {
      if (typeof item !== 'string') {
        items.push(item);
        continue;
      }
      const url = expandOne(item, base, rule, state);
      if (typeof url !== 'string') return failure(valueIssue(url.failure, url.fatal));
      items.push(url);
    }
    expanded = items;
  } else if (typeof value === 'string') {
    const url = expandOne(value, base, rule, state);
    if (typeof url !== 'string') return failure(valueIssue(url.failure, url.fatal));
    expanded = url;
  }
  return loadValue(inner, expanded, base, state);
}

/** Turns `{key: value}` into `[{subject: key, ...value}]`, sorted by key. */
function toList(value: unknown, subject: string, predicate: string): unknown {
  if (!isMapping(value)) return value;
  const list: unknown[] = [];
  for (const key of Object.keys(value).sort()) {
    const entry = value[key];
    if (isMapping(entry)) list.push({ ...entry, [subject]: key });
    else list.push({ [predicate]: entry, [subject]: key });
  }
  return list;
}

function resolveShorthand(text: string, base: string | null, state: LoadState) {
  const match = TYPE_SHORTHAND.exec(text);
  if (match === null) return text;
  const name = expandOne(match[1]!, base, TYPE_RULE, state);
  if (typeof name !== 'string') return name;
  const array = match[2] === undefined ? undefined : { type: 'array', items: name };
  if (match[3] !== undefined) return ['null', array ?? name];
  return array ?? name;
}

function loadTypeDsl(inner: FieldType, value: unknown, base: string | null, state: LoadState) {
  let rewritten = value;
  if (typeof value === 'string') {
    const resolved = resolveShorthand(value, base, state);
    if (isFailure(resolved)) return failure(valueIssue(resolved.failure, resolved.fatal));
    rewritten = resolved;
  } else if (Array.isArray(value)) {
    const members: unknown[] = [];
    for (const member of value) {
      if (typeof member !== 'string') {
        members.push(member);
        continue;
      }
      const resolved = resolveShorthand(member, base, state);
      if (isFailure(resolved)) return failure(valueIssue(resolved.failure, resolved.fatal));
      for (const item of Array.isArray(resolved) ? resolved : [resolved]) {
        if (!members.includes(item)) members.push(item);
      }
    }
    rewritten = members;
  }
  return loadValue(inner, rewritten, base, state);
}

function isFailure(value: unknown): value is { failure: string; fatal: boolean } {
  return isMapping(value) && typeof value.failure === 'string';
}

/**
 * Moves `pattern` and `required` out of `entry` into a new mapping. Like cwl-ts-auto 0.1.3,
 * this deletes them from the document, so a later union alternative finds the entry without them.
 */
function takePattern(entry: Record<string, unknown>): Record<string, unknown> | string {
  if (!('pattern' in entry)) {
    return `secondaryFiles entry ${showValue(entry)} has no \`pattern\``;
  }
  const schemaEntry: Record<string, unknown> = { pattern: entry.pattern };
  delete entry.pattern;
  if ('required' in entry) {
    schemaEntry.required = entry.required;
    delete entry.required;
  }
  const extra = Object.keys(entry);
  if (extra.length > 0) {
    return `secondaryFiles entry has fields other than \`pattern\` and \`required\`: ${extra.join(', ')}`;
  }
  return schemaEntry;
}

function patternOf(text: string): Record<string, unknown> {
  return text.endsWith('?') ? { pattern: text.slice(0, -1), required: false } : { pattern: text };
}

function loadSecondaryFiles(
  inner: FieldType,
  value: unknown,
  base: string | null,
  state: LoadState,
  docRoot?: string,
): Outcome {
  const entries: unknown[] = [];
  const items = Array.isArray(value) ? value : [value];
  for (const item of items) {
    if (typeof item === 'string') entries.push(patternOf(item));
    else if (isMapping(item)) {
      const schemaEntry = takePattern(item);
      if (typeof schemaEntry === 'string') return failure(valueIssue(schemaEntry));
      entries.push(schemaEntry);
    } else {
      const expected = Array.isArray(value)
        ? 'a string or a mapping in secondaryFiles'
        : 'a string, a mapping or a list in secondaryFiles';
      return failure(valueIssue(`expected ${expected}, got ${showValue(item)}`));
    }
  }
  return loadValue(inner, entries, base, state, docRoot);
}
