import type { Route } from './context.js';

/** Every kind of fault the service can inject. */
export const FAULT_KINDS = ['error', 'delay', 'drop', 'lost', 'expire', 'unauthorized'] as const;

/**
 * A kind of fault:
 * - `error`: responds with one of `errorStatuses` without running the handler;
 * - `delay`: runs the handler, then delays the response by a random time in `delaySeconds`;
 * - `drop`: resets the connection without reading the request or running the handler;
 * - `lost`: runs the handler, so the state changes, then resets the connection;
 * - `expire`: the presigned URL the route issues expires after `urlLifetimeSeconds`;
 * - `unauthorized`: responds 401 and expires the request's access token for good.
 */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Which requests get a fault, and of which kinds. */
export interface FaultRule {
  /** Share of the covered requests that get a fault, from 0 to 1. */
  rate: number;
  /**
   * Kinds to draw from, equally likely among those that apply to the route (`expire` applies
   * only to routes that issue presigned URLs, `unauthorized` only to routes with a bearer
   * token, `lost` not to `lostExcludedRoutes`). Default: every kind.
   */
  kinds?: FaultKind[];
  /** Route names covered, as `requestCounts` names them. Default: every route. */
  routes?: string[];
}

/** Options of fault injection: a rule for every route, per-route rules, and fault details. */
export interface FaultOptions extends FaultRule {
  /** Rules checked in order before the top-level rule; the first that covers a route wins. */
  routeRules?: FaultRule[];
  /** Seed of the random generators; default 1. The same seed repeats the same faults. */
  seed?: number;
  /** Range of a `delay`, in seconds; default `[0.5, 3]`. */
  delaySeconds?: [number, number];
  /** Statuses an `error` responds with, each equally likely; default `[500, 502, 503, 429]`. */
  errorStatuses?: number[];
  /** `Retry-After` header of a 429, in seconds; default 1. */
  retryAfterSeconds?: number;
  /** Seconds a URL issued under `expire` stays valid; default 0, expired when issued. */
  urlLifetimeSeconds?: number;
  /**
   * Routes that never get `lost`. Default: the three token routes, because each consumes a
   * single-use credential (the pilot secret, or a refresh token that rotates), and no client
   * can recover once the response with the new tokens is lost.
   */
  lostExcludedRoutes?: string[];
}

/** One fault drawn for a request, with the details the dispatcher needs to inject it. */
export type InjectedFault =
  | { kind: 'error'; status: number; retryAfterSeconds: number }
  | { kind: 'delay'; delayMs: number }
  | { kind: 'drop' }
  | { kind: 'lost' }
  | { kind: 'expire'; urlLifetimeSeconds: number }
  | { kind: 'unauthorized' };

/** Token routes, where a lost response consumes a single-use credential for good. */
export const TOKEN_ROUTES = [
  'POST /api/auth/secret-exchange',
  'POST /api/auth/pilot-token',
  'POST /api/auth/token',
];

// NOTE: a `lost` match leaves the job Matched to a pilot that never saw it. This service has
// no agent that returns such jobs to the queue, so by default the match route is spared too.

/** Default of `lostExcludedRoutes`: routes whose lost response no client can recover from. */
export const DEFAULT_LOST_EXCLUDED_ROUTES = [...TOKEN_ROUTES, 'POST /api/pilots/internal/match'];

const ERROR_STATUSES = [429, 500, 502, 503, 504];

interface ResolvedFaults {
  rules: Required<FaultRule>[];
  seed: number;
  delaySeconds: [number, number];
  errorStatuses: number[];
  retryAfterSeconds: number;
  urlLifetimeSeconds: number;
  lostExcludedRoutes: Set<string>;
}

/**
 * Returns a generator of uniform numbers in [0, 1): a Weyl sequence mixed by MurmurHash3's
 * 32-bit finalizer. Statistically weak, but reproducible and ample for picking faults.
 */
export function seededRandom(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 16), 0x85ebca6b);
    mixed = Math.imul(mixed ^ (mixed >>> 13), 0xc2b2ae35);
    mixed ^= mixed >>> 16;
    return (mixed >>> 0) / 2 ** 32;
  };
}

/** Hashes a route name into a seed (FNV-1a), so that each route has its own sequence. */
function routeSeed(seed: number, routeName: string): number {
  let hash = 0x811c9dc5 ^ seed;
  for (const char of routeName) {
    hash = Math.imul(hash ^ (char.codePointAt(0) as number), 0x01000193);
  }
  return hash;
}

function checkRule(rule: FaultRule, routeNames: string[], where: string): Required<FaultRule> {
  if (typeof rule.rate !== 'number' || !(rule.rate >= 0 && rule.rate <= 1)) {
    throw new Error(`Fault rate ${rule.rate} of ${where} is invalid; give a number from 0 to 1`);
  }
  const kinds = rule.kinds ?? [...FAULT_KINDS];
  for (const kind of kinds) {
    if (!FAULT_KINDS.includes(kind)) {
      throw new Error(`Fault kind ${kind} of ${where} is unknown; use ${FAULT_KINDS.join(', ')}`);
    }
  }
  checkRouteNames(rule.routes ?? [], routeNames, where);
  return { rate: rule.rate, kinds, routes: rule.routes ?? [] };
}

function checkRouteNames(names: string[], routeNames: string[], where: string): void {
  for (const name of names) {
    if (!routeNames.includes(name)) {
      throw new Error(`Route ${name} of ${where} is unknown; use one of: ${routeNames.join('; ')}`);
    }
  }
}

function checkDetails(options: FaultOptions): void {
  const [low, high] = options.delaySeconds ?? [0.5, 3];
  if (!(low >= 0 && high >= low)) {
    throw new Error(`Fault delaySeconds [${low}, ${high}] is invalid; give 0 <= min <= max`);
  }
  for (const status of options.errorStatuses ?? []) {
    if (!ERROR_STATUSES.includes(status)) {
      throw new Error(`Fault error status ${status} is invalid; use ${ERROR_STATUSES.join(', ')}`);
    }
  }
  if (options.errorStatuses?.length === 0) {
    throw new Error('Fault errorStatuses is empty; give at least one status or omit it');
  }
  for (const name of ['retryAfterSeconds', 'urlLifetimeSeconds'] as const) {
    const value = options[name];
    if (value !== undefined && !(Number.isInteger(value) && value >= 0)) {
      throw new Error(`Fault ${name} ${value} is invalid; give a whole number of seconds >= 0`);
    }
  }
}

/** Checks fault options against the service's route names and applies the defaults. */
export function resolveFaults(options: FaultOptions, routeNames: string[]): ResolvedFaults {
  const rules = (options.routeRules ?? []).map((rule, index) =>
    checkRule(rule, routeNames, `routeRules[${index}]`),
  );
  rules.push(checkRule(options, routeNames, 'the top-level rule'));
  checkDetails(options);
  const lostExcludedRoutes = options.lostExcludedRoutes ?? DEFAULT_LOST_EXCLUDED_ROUTES;
  checkRouteNames(lostExcludedRoutes, routeNames, 'lostExcludedRoutes');
  return {
    rules,
    seed: options.seed ?? 1,
    delaySeconds: options.delaySeconds ?? [0.5, 3],
    errorStatuses: options.errorStatuses ?? [500, 502, 503, 429],
    retryAfterSeconds: options.retryAfterSeconds ?? 1,
    urlLifetimeSeconds: options.urlLifetimeSeconds ?? 0,
    lostExcludedRoutes: new Set(lostExcludedRoutes),
  };
}

/**
 * Draws faults for requests. Each route has its own generator, so the faults one route gets
 * depend only on the seed and on how many requests that route received since `set`.
 */
export class FaultInjector {
  /** Faults injected per route name and kind, since the service started. */
  readonly counts = new Map<string, Record<FaultKind, number>>();
  private readonly routeNames: string[];
  private faults: ResolvedFaults | undefined;
  private generators = new Map<string, () => number>();

  constructor(routeNames: string[]) {
    this.routeNames = routeNames;
  }

  /** Replaces the fault options, or turns faults off with undefined; restarts every sequence. */
  set(options: FaultOptions | undefined): void {
    this.faults = options === undefined ? undefined : resolveFaults(options, this.routeNames);
    this.generators = new Map();
  }

  /** Draws the fault of one request to `route`, or undefined for none. */
  draw(route: Route): InjectedFault | undefined {
    const faults = this.faults;
    const rule = faults?.rules.find(
      (candidate) => candidate.routes.length === 0 || candidate.routes.includes(route.name),
    );
    if (!faults || !rule || rule.rate === 0) {
      return undefined;
    }
    // Three numbers per request, used or not, keep the sequence independent of the outcome.
    const random = this.generatorOf(route.name, faults.seed);
    const [hit, pick, detail] = [random(), random(), random()];
    const kinds = rule.kinds.filter((kind) => appliesTo(kind, route, faults));
    if (hit >= rule.rate || kinds.length === 0) {
      return undefined;
    }
    const fault = buildFault(kinds[Math.floor(pick * kinds.length)] as FaultKind, detail, faults);
    this.countFault(route.name, fault.kind);
    return fault;
  }

  private generatorOf(routeName: string, seed: number): () => number {
    let generator = this.generators.get(routeName);
    if (!generator) {
      generator = seededRandom(routeSeed(seed, routeName));
      this.generators.set(routeName, generator);
    }
    return generator;
  }

  private countFault(routeName: string, kind: FaultKind): void {
    let counts = this.counts.get(routeName);
    if (!counts) {
      counts = Object.fromEntries(FAULT_KINDS.map((name) => [name, 0])) as Record<
        FaultKind,
        number
      >;
      this.counts.set(routeName, counts);
    }
    counts[kind] += 1;
  }
}

function appliesTo(kind: FaultKind, route: Route, faults: ResolvedFaults): boolean {
  switch (kind) {
    case 'expire':
      return route.issuesPresignedUrls === true;
    case 'unauthorized':
      return route.tokenKinds.length > 0;
    case 'lost':
      return !faults.lostExcludedRoutes.has(route.name);
    default:
      return true;
  }
}

function buildFault(kind: FaultKind, detail: number, faults: ResolvedFaults): InjectedFault {
  switch (kind) {
    case 'error': {
      const statuses = faults.errorStatuses;
      const status = statuses[Math.floor(detail * statuses.length)] as number;
      return { kind, status, retryAfterSeconds: faults.retryAfterSeconds };
    }
    case 'delay': {
      const [low, high] = faults.delaySeconds;
      return { kind, delayMs: Math.round((low + detail * (high - low)) * 1000) };
    }
    case 'expire':
      return { kind, urlLifetimeSeconds: faults.urlLifetimeSeconds };
    default:
      return { kind };
  }
}
