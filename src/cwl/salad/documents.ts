/**
 * Document-level loading: `$namespaces`, `$base` and `$graph` at the top of a file, and the
 * `$import` and `$include` directives that pull in other files.
 */
import { parseCwlYaml } from '../yaml.js';
import { valueIssue } from './issues.js';
import { failure, isMapping, loadValue, type LoadState, type Outcome } from './load.js';
import type { FieldType } from './types.js';
import { BASE_URI_CONTEXT, joinUrl, withNamespaces } from './uri.js';

/**
 * Loads the document `document`, whose URL is `base`: a mapping with optional `$namespaces`,
 * `$schemas`, `$base` and `$graph`, a list, or a string naming another document. Deletes
 * `$namespaces` and `$schemas` from the mapping, as cwl-ts-auto 0.1.3 does.
 */
export function loadDocument(
  type: FieldType,
  document: unknown,
  base: string,
  state: LoadState,
): Outcome {
  if (typeof document === 'string') {
    const url = joinUrl(base, document, state.context);
    if (typeof url !== 'string') return failure(valueIssue(url.failure, url.fatal));
    return loadDocumentAt(type, url, state);
  }
  if (Array.isArray(document)) return loadValue(type, document, base, state);
  if (!isMapping(document)) {
    return failure(valueIssue('expected a mapping or a list at the top of the document', true));
  }

  let current = state;
  if ('$namespaces' in document || '$schemas' in document) {
    // cwl-ts-auto swaps in its default fetcher here, and adds prefixes only when given.
    const namespaces = document.$namespaces;
    const context = isMapping(namespaces)
      ? withNamespaces(namespaces)
      : { ...BASE_URI_CONTEXT, defaultFetcher: true };
    current = { ...state, context };
    delete document.$schemas;
    delete document.$namespaces;
  }
  const documentBase = typeof document.$base === 'string' ? document.$base : base;
  if ('$graph' in document) return loadValue(type, document.$graph, documentBase, current);
  return loadValue(type, document, documentBase, current, documentBase);
}

/** Loads the document at `url`, from the cache when an earlier load already parsed it. */
function loadDocumentAt(type: FieldType, url: string, state: LoadState): Outcome {
  if (state.index.has(url)) return loadDocument(type, state.index.get(url), url, state);
  if (!url.startsWith('file:')) {
    return failure(valueIssue(`cannot fetch ${url}: only local files can be imported`));
  }

  let text: string;
  try {
    text = state.fetchText(url);
  } catch (error) {
    return failure(valueIssue(`cannot read ${url}: ${(error as Error).message}`));
  }
  let parsed: unknown;
  try {
    parsed = parseCwlYaml(text);
  } catch (error) {
    return failure(valueIssue(`invalid YAML in ${url}: ${(error as Error).message}`, true));
  }
  state.index.set(url, parsed);
  // An imported file gets neither the importing file's prefixes nor its fetcher.
  const imported: LoadState = {
    ...state,
    fileUri: url,
    context: { ...BASE_URI_CONTEXT, defaultFetcher: true },
  };
  return loadDocument(type, parsed, url, imported);
}

/** Loads `{$import: url}` as a whole document, or `{$include: url}` as the file's text. */
export function loadReference(
  type: FieldType,
  directive: Record<string, unknown>,
  base: string | null,
  state: LoadState,
): Outcome {
  const isImport = '$import' in directive;
  const target = String(isImport ? directive.$import : directive.$include);
  const url = joinUrl(state.fileUri, target, state.context);
  if (typeof url !== 'string') return failure(valueIssue(url.failure, url.fatal));
  if (isImport) return loadDocumentAt(type, url, state);

  if (!url.startsWith('file:')) {
    return failure(valueIssue(`cannot fetch ${url}: only local files can be included`));
  }
  let text: string;
  try {
    text = state.fetchText(url);
  } catch (error) {
    return failure(valueIssue(`cannot read ${url}: ${(error as Error).message}`));
  }
  return loadValue(type, text, base, state);
}
