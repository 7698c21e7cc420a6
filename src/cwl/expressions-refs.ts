/**
 * CWL v1.2 parameter references: `$(inputs.x)`, `$(inputs['x'].y[0])`, `$(self.length)`,
 * resolved without a JavaScript engine by the algorithm of the specification's "Parameter
 * references" section.
 */

/** A parsed parameter reference: the leading symbol and the keys that follow it. */
export interface ParameterReference {
  root: string;
  keys: (string | number)[];
}

/** Outcome of resolving a parameter reference, with the reason of a failure. */
export type ResolveResult = { ok: true; value: unknown } | { ok: false; reason: string };

// The specification's symbol is one or more Unicode letters or digits. `_` is accepted too,
// because documents reference input names such as `input_file` this way.
const SYMBOL = /^[\p{L}\p{N}_]+/u;

const parsedReferences = new Map<string, ParameterReference | null>();
const MAX_CACHED_REFERENCES = 5000;

/**
 * Parses the code between `$(` and `)` as a parameter reference.
 * Returns null when the code is not one, such as JavaScript with operators or calls.
 */
export function parseParameterReference(code: string): ParameterReference | null {
  const cached = parsedReferences.get(code);
  if (cached !== undefined) return cached;

  const parsed = parseUncached(code);
  if (parsedReferences.size >= MAX_CACHED_REFERENCES) parsedReferences.clear();
  parsedReferences.set(code, parsed);
  return parsed;
}

function parseUncached(code: string): ParameterReference | null {
  const rootMatch = SYMBOL.exec(code);
  if (rootMatch === null) return null;

  const keys: (string | number)[] = [];
  let rest = code.slice(rootMatch[0].length);
  while (rest !== '') {
    const segment = parseSegment(rest);
    if (segment === null) return null;
    keys.push(segment.key);
    rest = rest.slice(segment.length);
  }
  return { root: rootMatch[0], keys };
}

function parseSegment(text: string): { key: string | number; length: number } | null {
  if (text.startsWith('.')) {
    const match = SYMBOL.exec(text.slice(1));
    return match === null ? null : { key: match[0], length: match[0].length + 1 };
  }

  const index = /^\[(\d+)\]/.exec(text);
  if (index !== null) return { key: Number(index[1]), length: index[0].length };

  const quote = text[1];
  if (!text.startsWith('[') || (quote !== "'" && quote !== '"')) return null;

  // Quoted keys may contain any character. A backslash takes the next character literally,
  // so `['b\'az']` names the key `b'az`.
  let key = '';
  let i = 2;
  while (i < text.length && text[i] !== quote) {
    if (text[i] === '\\' && i + 1 < text.length) i += 1;
    key += text[i];
    i += 1;
  }
  if (text[i] !== quote || text[i + 1] !== ']') return null;
  return { key, length: i + 2 };
}

/**
 * Resolves a parsed reference against the parameter context. The symbol `null` alone is the
 * value null. `length` as the last key of an array is the array's length. An index also
 * applies to a string and returns one character.
 */
export function resolveParameterReference(
  reference: ParameterReference,
  context: Record<string, unknown>,
): ResolveResult {
  const { root, keys } = reference;
  if (root === 'null') {
    if (keys.length === 0) return { ok: true, value: null };
    return { ok: false, reason: 'null has no fields or elements' };
  }
  if (!Object.hasOwn(context, root)) {
    return { ok: false, reason: `"${root}" is not defined; use inputs, self or runtime` };
  }

  let value = context[root];
  let path = root;
  for (let k = 0; k < keys.length; k += 1) {
    const key = keys[k] as string | number;
    const step = lookUp(value, key, path, k === keys.length - 1);
    if (!step.ok) return step;
    value = step.value;
    path += typeof key === 'number' ? `[${key}]` : formatKey(key);
  }
  return { ok: true, value };
}

function lookUp(
  value: unknown,
  key: string | number,
  path: string,
  isLast: boolean,
): ResolveResult {
  if (typeof key === 'number') {
    if (!Array.isArray(value) && typeof value !== 'string') {
      return {
        ok: false,
        reason: `${path} is ${describeKind(value)}, so it has no index [${key}]`,
      };
    }
    if (key >= value.length) {
      return { ok: false, reason: `index [${key}] is out of range: ${path} has ${value.length}` };
    }
    return { ok: true, value: value[key] };
  }

  if (Array.isArray(value) && key === 'length' && isLast) return { ok: true, value: value.length };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: `${path} is ${describeKind(value)}, so it has no field "${key}"` };
  }
  if (!Object.hasOwn(value, key)) {
    return { ok: false, reason: `${path} has no field "${key}"` };
  }
  return { ok: true, value: (value as Record<string, unknown>)[key] };
}

function formatKey(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}
