/**
 * Plain-JSON shapes of a normalised CWL document, as cwl-ts-auto's `save()` writes them, and
 * helpers to read requirements and ids from them.
 */

/** Any mapping of a loaded CWL document. */
export type CwlObject = Record<string, unknown>;

/** A File or Directory value of an input or output object. */
export interface CwlFileLike {
  class: 'File' | 'Directory';
  location?: string;
  path?: string;
  basename?: string;
  dirname?: string;
  nameroot?: string;
  nameext?: string;
  size?: number;
  checksum?: string;
  contents?: string;
  format?: string;
  listing?: CwlFileLike[];
  secondaryFiles?: CwlFileLike[];
  [key: string]: unknown;
}

/** Returns whether `value` is a non-array object. */
export function isObject(value: unknown): value is CwlObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Returns whether `value` is a File or Directory object. */
export function isFileLike(value: unknown): value is CwlFileLike {
  return isObject(value) && (value.class === 'File' || value.class === 'Directory');
}

/**
 * Returns the local part of a full-IRI id or name: `file:///a/t.cwl#main/x` gives `x`, and a
 * name without `#` or `/` is returned unchanged.
 */
export function localName(iri: string): string {
  const hash = iri.lastIndexOf('#');
  const tail = hash >= 0 ? iri.slice(hash + 1) : iri;
  const slash = tail.lastIndexOf('/');
  return slash >= 0 ? tail.slice(slash + 1) : tail;
}

/**
 * Finds the requirement of class `className`: `requirements` win over `hints`, and a later
 * entry over an earlier one. Returns the entry and whether it was a hint.
 */
export function findRequirement(
  process: CwlObject,
  className: string,
): { requirement: CwlObject; isHint: boolean } | undefined {
  const requirements = asArray(process.requirements).filter(isObject);
  const fromRequirements = requirements.filter((entry) => entry.class === className).pop();
  if (fromRequirements !== undefined) return { requirement: fromRequirements, isHint: false };

  const hints = asArray(process.hints).filter(isObject);
  const fromHints = hints.filter((entry) => entry.class === className).pop();
  if (fromHints !== undefined) return { requirement: fromHints, isHint: true };
  return undefined;
}

/** Returns `value` as an array: itself, `[value]`, or `[]` for null and undefined. */
export function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}
