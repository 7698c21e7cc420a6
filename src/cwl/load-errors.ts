/**
 * Messages for CWL documents and job files that cannot be loaded: unreadable files and rejected
 * documents. Input types that name no known type are found here too, because the normaliser,
 * like cwl-ts-auto, accepts any name as a type reference.
 */
import { asArray, isObject, localName, type CwlObject } from './model.js';
import { PROCESS_CLASSES } from './salad/index.js';
import { resolveType, type NamedTypes } from './schema.js';

/**
 * Describes why the normaliser rejected a document of class `className`: an unknown-class or
 * missing-class message, or else `reason`, the normaliser's own description of the problem.
 */
export function describeLoadError(reason: string, className: unknown): string {
  if (typeof className === 'string' && !PROCESS_CLASSES.includes(className)) {
    return `unknown class "${className}", expected one of ${PROCESS_CLASSES.join(', ')}`;
  }
  if (className === undefined)
    return `missing "class", expected one of ${PROCESS_CLASSES.join(', ')}`;
  return reason;
}

/**
 * Describes why reading `file` failed. `label` names the file's role, such as `CWL document` or
 * `job file`, and starts the message.
 */
export function describeReadError(label: string, file: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return `${label} not found: ${file}`;
  if (code === 'EISDIR') return `${label} ${file} is a folder, not a file`;
  if (code === 'EACCES' || code === 'EPERM') {
    return `cannot read ${label} ${file}: permission denied, check the file's permissions`;
  }
  return `cannot read ${label} ${file}: ${error instanceof Error ? error.message : String(error)}`;
}

/** Types an input may use without defining them, as listed in error messages. */
const BUILT_IN_TYPES = [
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
];

/** Shortcut types left out of messages: `stdin` for inputs, `stdout` and `stderr` for outputs. */
const OTHER_BUILT_IN_TYPES = ['stdin', 'stdout', 'stderr'];

/** Namespaces under which a built-in type may be written as a full IRI. */
const TYPE_NAMESPACES = [
  'http://www.w3.org/2001/XMLSchema#',
  'https://w3id.org/cwl/salad#',
  'https://w3id.org/cwl/cwl#',
];

/** An input whose declared type refers to a type name that is not defined. */
export interface UnknownInputType {
  /** Short name of the input, such as `msg`. */
  input: string;
  /** The type reference as loaded, usually a full IRI such as `file:///x/tool.cwl#strng`. */
  type: string;
}

/**
 * Returns the first input of `process` whose type, or a type nested in it (union member, array
 * items, record field), names neither a built-in type nor one of `named`.
 */
export function findUnknownInputType(
  process: CwlObject,
  named: NamedTypes,
): UnknownInputType | undefined {
  for (const parameter of asArray(process.inputs).filter(isObject)) {
    const type = findUnknownTypeName(parameter.type, named);
    if (type !== undefined) return { input: localName(String(parameter.id)), type };
  }
  return undefined;
}

function findUnknownTypeName(type: unknown, named: NamedTypes): string | undefined {
  if (typeof type === 'string') return isKnownTypeName(type, named) ? undefined : type;
  if (Array.isArray(type)) {
    for (const member of type) {
      const found = findUnknownTypeName(member, named);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (!isObject(type)) return undefined;

  const kind = typeof type.type === 'string' ? localName(type.type) : undefined;
  if (kind === 'enum') return undefined;
  if (kind === 'array') return findUnknownTypeName(type.items, named);
  if (kind === 'record') {
    const fieldTypes = asArray(type.fields)
      .filter(isObject)
      .map((field) => field.type);
    return findUnknownTypeName(fieldTypes, named);
  }
  return findUnknownTypeName(type.type, named);
}

function isKnownTypeName(name: string, named: NamedTypes): boolean {
  // The shorthands of CWL v1.2: `T?` is [null, T] and `T[]` is an array of T.
  const base = name.replace(/(\?|\[\])+$/, '');
  const bare = TYPE_NAMESPACES.reduce(
    (text, namespace) => (text.startsWith(namespace) ? text.slice(namespace.length) : text),
    base,
  );
  if (BUILT_IN_TYPES.includes(bare) || OTHER_BUILT_IN_TYPES.includes(bare)) return true;
  return resolveType(base, named) !== base;
}

/**
 * Describes an unknown input type for a user: the short type name, a likely intended name, and
 * the types the document may use instead.
 */
export function describeUnknownInputType(found: UnknownInputType, named: NamedTypes): string {
  const typeName = localName(found.type);
  const ownTypes = [...new Set([...named.keys()].map(localName))].sort();
  const suggestion = closestName(typeName, [...BUILT_IN_TYPES, ...ownTypes]);
  const hint = suggestion === undefined ? '' : ` (did you mean \`${suggestion}\`?)`;
  const builtIns = `${BUILT_IN_TYPES.slice(0, -1).join(', ')} and ${BUILT_IN_TYPES.at(-1)}`;
  const ownText =
    ownTypes.length === 0 ? '' : `, plus the types this document defines: ${ownTypes.join(', ')}`;
  return (
    `input \`${found.input}\` has an unknown type \`${typeName}\`${hint}. ` +
    `Valid types are ${builtIns}${ownText}. ` +
    `To use a record or enum type named \`${typeName}\`, define it in SchemaDefRequirement.`
  );
}

/** Returns the candidate within two edits of `name`, ignoring case, or undefined. */
export function closestName(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance && distance < candidate.length) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance: the fewest insertions, deletions and substitutions from `a` to `b`. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}
