import type { FaultKind, FaultOptions, FaultRule } from './faults.js';

/** Keys of a `--faults` value; those in LIST_KEYS take several comma-separated values. */
const OPTION_KEYS = [
  'rate',
  'kinds',
  'routes',
  'seed',
  'delay',
  'statuses',
  'retry-after',
  'url-lifetime',
  'lost-excluded',
];
const RULE_KEYS = ['rate', 'kinds', 'routes'];
const LIST_KEYS = new Set(['kinds', 'routes', 'statuses', 'lost-excluded']);

/**
 * Splits `key=value,key=value` into values per key. An item without `=` adds one more value
 * to the list key before it, so `kinds=error,drop` lists two kinds.
 */
function splitSpec(text: string, allowedKeys: string[], flag: string): Map<string, string[]> {
  const entries = new Map<string, string[]>();
  let key: string | undefined;
  for (const item of text.split(',')) {
    const equals = item.indexOf('=');
    if (equals === -1) {
      if (key === undefined || !LIST_KEYS.has(key)) {
        throw new Error(`${flag} item "${item}" has no key; write key=value`);
      }
      entries.get(key)?.push(item.trim());
      continue;
    }
    key = item.slice(0, equals).trim();
    if (!allowedKeys.includes(key)) {
      throw new Error(`${flag} key "${key}" is unknown; use ${allowedKeys.join(', ')}`);
    }
    entries.set(key, [item.slice(equals + 1).trim()]);
  }
  return entries;
}

function parseNumber(text: string | undefined, key: string, flag: string): number | undefined {
  if (text === undefined) {
    return undefined;
  }
  const value = Number(text);
  if (text === '' || !Number.isFinite(value)) {
    throw new Error(`${flag} ${key}=${text} is invalid; give a number`);
  }
  return value;
}

function parseDelay(text: string | undefined, flag: string): [number, number] | undefined {
  if (text === undefined) {
    return undefined;
  }
  const [low, high = low] = text.split('-');
  const range: [number, number] = [
    parseNumber(low, 'delay', flag) as number,
    parseNumber(high, 'delay', flag) as number,
  ];
  return range;
}

function ruleOf(entries: Map<string, string[]>, flag: string): FaultRule {
  const rate = parseNumber(entries.get('rate')?.[0], 'rate', flag);
  if (rate === undefined) {
    throw new Error(`${flag} has no rate; add rate=<0 to 1>`);
  }
  return {
    rate,
    kinds: entries.get('kinds') as FaultKind[] | undefined,
    routes: entries.get('routes'),
  };
}

/**
 * Parses the `--faults` value of the command line, such as
 * `rate=0.2,kinds=error,delay,drop,seed=7,delay=0.5-3`, into fault options. Keys: rate,
 * kinds, routes, seed, delay (seconds, MIN-MAX), statuses, retry-after and url-lifetime
 * (seconds), lost-excluded (route names, or `none`). Throws on an unknown key or a bad number.
 */
export function parseFaultSpec(text: string): FaultOptions {
  const flag = '--faults';
  const entries = splitSpec(text, OPTION_KEYS, flag);
  const lostExcluded = entries.get('lost-excluded');
  const statuses = entries.get('statuses');
  return {
    ...ruleOf(entries, flag),
    seed: parseNumber(entries.get('seed')?.[0], 'seed', flag),
    delaySeconds: parseDelay(entries.get('delay')?.[0], flag),
    errorStatuses: statuses?.map((status) => parseNumber(status, 'statuses', flag) as number),
    retryAfterSeconds: parseNumber(entries.get('retry-after')?.[0], 'retry-after', flag),
    urlLifetimeSeconds: parseNumber(entries.get('url-lifetime')?.[0], 'url-lifetime', flag),
    lostExcludedRoutes: lostExcluded?.[0] === 'none' ? [] : lostExcluded,
  };
}

/** Parses one `--route-faults` value, such as `rate=0.5,kinds=lost,routes=PATCH /api/jobs/status`. */
export function parseRouteFaultSpec(text: string): FaultRule {
  const flag = '--route-faults';
  const entries = splitSpec(text, RULE_KEYS, flag);
  if (!entries.has('routes')) {
    throw new Error(`${flag} has no routes; add routes=<route name>`);
  }
  return ruleOf(entries, flag);
}
