/**
 * Names, paths and short descriptions of CWL types and values, for checks and error messages.
 */

/**
 * Returns the last segment of a CWL identifier: the part after the last `#`, then after the
 * last `/`. `file:///x/tool.cwl#input/field` gives `field`, `#main/reads` gives `reads`.
 */
export function shortName(iri: string): string {
  const hash = iri.lastIndexOf('#');
  const fragment = hash === -1 ? iri : iri.slice(hash + 1);
  const slash = fragment.lastIndexOf('/');
  const name = slash === -1 ? fragment : fragment.slice(slash + 1);
  return name === '' ? iri : name;
}

/** Appends a field name or array index to a path: `inputs.reads`, `[2]`, `["b az"]`. */
export function formatPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

/** Returns a one-line JSON rendering of a value, at most `max` characters. */
export function shortenValue(value: unknown, max = 60): string {
  if (value === undefined) return 'no value';
  let text: string;
  try {
    text =
      JSON.stringify(value, (_key, item: unknown) =>
        typeof item === 'bigint' ? item.toString() : item,
      ) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

/** Returns a short human-readable form of a CWL type: `int`, `null | File`, `array of string`. */
export function describeType(type: unknown): string {
  if (typeof type === 'string') return shortName(type);
  if (Array.isArray(type)) return type.map((member) => describeType(member)).join(' | ');
  if (type === null || typeof type !== 'object') return String(type);

  const object = type as Record<string, unknown>;
  const kind = typeof object.type === 'string' ? shortName(object.type) : undefined;
  const name = typeof object.name === 'string' ? ` ${shortName(object.name)}` : '';
  switch (kind) {
    case 'array': {
      const items = describeType(object.items);
      return Array.isArray(object.items) ? `array of (${items})` : `array of ${items}`;
    }
    case 'record':
      return `record${name}`;
    case 'enum': {
      const symbols = Array.isArray(object.symbols) ? object.symbols.map(String) : [];
      const listed = symbols.map((symbol) => shortName(symbol)).join(', ');
      return `enum${name} [${listed.length > 60 ? `${listed.slice(0, 57)}...` : listed}]`;
    }
    default:
      return object.type === undefined ? 'an unknown type' : describeType(object.type);
  }
}
