/**
 * URI resolution rules of Schema Salad as cwl-ts-auto 0.1.3 applies them: vocabulary terms,
 * namespace prefixes, scoped identifiers (`inp` under `file:///x.cwl#main` becomes
 * `file:///x.cwl#main/inp`) and scoped references (`scatter`, `source`, type names).
 */
import { VOCABULARY, REVERSE_VOCABULARY } from './vocabulary.js';

/** Components of a URI reference, percent-encoded the way the `uri-js` parser returns them. */
export interface UriParts {
  scheme?: string;
  host?: string;
  path: string;
  query?: string;
  fragment?: string;
}

/** The resolution rule of a URI-valued field. */
export interface UriRule {
  /** The value names a new identifier in the scope of the enclosing object. */
  scopedId: boolean;
  /** The value may be a vocabulary term, such as `File` or a CWL class name. */
  vocabTerm: boolean;
  /** Number of scope levels to climb before appending a relative reference. */
  refScope?: number;
}

/** Namespace prefixes and fetcher rules in force while a document loads. */
export interface UriContext {
  /** Vocabulary terms and `$namespaces` prefixes, mapped to their full IRIs. */
  vocabulary: ReadonlyMap<string, string>;
  /** Full IRIs mapped back to their short terms. */
  reverse: ReadonlyMap<string, string>;
  /**
   * Joins as cwl-ts-auto's default fetcher does (it passes `_:` blank nodes through), which it
   * uses for every document that declares `$namespaces` and for every imported file.
   */
  defaultFetcher: boolean;
}

/** A failed resolution: `fatal` when cwl-ts-auto raises a TypeError that no union catches. */
export interface UriFailure {
  failure: string;
  fatal: boolean;
}

// RFC 3986, appendix B.
const URI_PATTERN = /^(?:([^:/?#]+):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#([\s\S]*))?$/;
const UNSAFE_CHARACTERS = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%]+/g;
const SCHEMES_KEPT = new Set(['http', 'https', 'file']);

/** The base vocabulary with no `$namespaces`, for documents that declare none. */
export const BASE_URI_CONTEXT: UriContext = {
  vocabulary: VOCABULARY,
  reverse: REVERSE_VOCABULARY,
  defaultFetcher: false,
};

/** Returns a context with the prefixes of a `$namespaces` mapping added to the vocabulary. */
export function withNamespaces(namespaces: Record<string, unknown>): UriContext {
  const vocabulary = new Map(VOCABULARY);
  const reverse = new Map(REVERSE_VOCABULARY);
  for (const [prefix, iri] of Object.entries(namespaces)) {
    vocabulary.set(prefix, String(iri));
    reverse.set(String(iri), prefix);
  }
  return { vocabulary, reverse, defaultFetcher: true };
}

// NOTE: this encoding matches cwl-ts-auto's on every document of the conformance suite and the
// CTAO and DIRAC examples. Ids with non-ASCII text or a stray `%` were not compared.
function encodeComponent(text: string): string {
  return text.replace(UNSAFE_CHARACTERS, (run) => encodeURIComponent(run));
}

/** Splits a URI reference into components, percent-encoding characters a URI may not contain. */
export function parseUri(text: string): UriParts {
  const match = URI_PATTERN.exec(text);
  if (match === null) return { path: encodeComponent(text) };
  const [, scheme, authority, path = '', query, fragment] = match;
  const parts: UriParts = { path: encodeComponent(path) };
  if (scheme !== undefined) parts.scheme = scheme.toLowerCase();
  if (authority !== undefined) parts.host = authority.toLowerCase();
  if (query !== undefined) parts.query = encodeComponent(query);
  if (fragment !== undefined) parts.fragment = encodeComponent(fragment).replace(/#/g, '%23');
  return parts;
}

function serializeUri(parts: UriParts): string {
  let text = parts.scheme === undefined ? '' : `${parts.scheme}:`;
  if (parts.host !== undefined) text += `//${parts.host}`;
  text += parts.path;
  if (parts.query !== undefined) text += `?${parts.query}`;
  if (parts.fragment !== undefined) text += `#${parts.fragment}`;
  return text;
}

/** Resolves `url` against `base` as the WHATWG URL parser does; a failure is fatal. */
export function joinUrl(base: string, url: string, context: UriContext): string | UriFailure {
  if (context.defaultFetcher && url.startsWith('_:')) return url;
  if (context.defaultFetcher) {
    const baseScheme = parseUri(base).scheme;
    if (baseScheme !== undefined && baseScheme !== 'file' && parseUri(url).scheme === 'file') {
      return { failure: `not resolving ${url} from remote base ${base}`, fatal: false };
    }
  }
  if (!URL.canParse(url, base)) {
    return { failure: `cannot resolve "${url}" against base "${base}"`, fatal: true };
  }
  return new URL(url, base).href;
}

function expandPrefix(url: string, context: UriContext): string {
  const colon = url.indexOf(':');
  if (colon < 0) return url;
  const namespace = context.vocabulary.get(url.slice(0, colon));
  return namespace === undefined ? url : namespace + url.slice(colon + 1);
}

function joinScoped(url: string, base: string, rule: UriRule): string {
  const split = parseUri(url);
  const baseParts = parseUri(base);
  let fragment: string;
  if (rule.scopedId) {
    fragment =
      baseParts.fragment === undefined ? split.path : `${baseParts.fragment}/${split.path}`;
  } else {
    const scope = baseParts.fragment === undefined ? [] : baseParts.fragment.split('/');
    for (let level = rule.refScope ?? 0; level > 0 && scope.length > 0; level -= 1) scope.pop();
    scope.push(url);
    fragment = scope.join('/');
  }
  return serializeUri({ ...baseParts, fragment });
}

/**
 * Expands `url` under `rule`, relative to `base`. Returns the expanded string, or a failure for
 * a term outside the vocabulary or a reference that cannot be resolved.
 */
export function expandUrl(
  url: string,
  base: string,
  rule: UriRule,
  context: UriContext,
): string | UriFailure {
  if (url === '@id' || url === '@type') return url;
  if (rule.vocabTerm && context.vocabulary.has(url)) return url;

  const expanded = expandPrefix(url, context);
  const split = parseUri(expanded);
  let resolved: string | UriFailure = expanded;
  const isAbsolute =
    (split.scheme !== undefined && SCHEMES_KEPT.has(split.scheme)) ||
    expanded.startsWith('$(') ||
    expanded.startsWith('${');
  if (isAbsolute) resolved = expanded;
  else if (split.fragment === undefined && (rule.scopedId || rule.refScope !== undefined)) {
    resolved = joinScoped(expanded, base, rule);
  } else resolved = joinUrl(base, expanded, context);
  if (typeof resolved !== 'string' || !rule.vocabTerm) return resolved;

  if (parseUri(resolved).scheme === undefined) {
    return { failure: `"${resolved}" is not a known term`, fatal: false };
  }
  return context.reverse.get(resolved) ?? resolved;
}
