/**
 * A Schema Salad normaliser for CWL v1.2 process documents. It turns the parsed YAML of a
 * document into the plain JSON that cwl-ts-auto 0.1.3 gives from `loadDocument` followed by
 * `save(true, '', false)`: full-IRI ids, map forms as lists, type shorthands expanded,
 * `$import` and `$include` followed and `$namespaces` prefixes expanded.
 */
import { describeIssue, type LoadIssue } from './issues.js';
import { loadDocument } from './documents.js';
import type { LoadState, TextFetcher } from './load.js';
import { DOCUMENT_ROOT } from './schema.js';
import { BASE_URI_CONTEXT } from './uri.js';

export { describeIssue, type LoadIssue } from './issues.js';
export type { TextFetcher } from './load.js';
export { PROCESS_CLASSES } from './schema.js';

/** The processes of a document, or the issue that rejects it. */
export type NormaliseResult =
  | { ok: true; processes: Array<Record<string, unknown>> }
  | { ok: false; issue: LoadIssue; message: string };

/**
 * Normalises the parsed document `raw`, read from `uri`, into one plain-JSON object per
 * process: one, or every entry of a `$graph`. `fetchText` reads the files that `$import` and
 * `$include` name. Deletes `$namespaces` and `$schemas` from `raw`, and may rewrite its
 * `secondaryFiles` entries, as cwl-ts-auto 0.1.3 does.
 */
export function normaliseCwlDocument(
  raw: Record<string, unknown>,
  uri: string,
  fetchText: TextFetcher,
): NormaliseResult {
  const { $namespaces: namespaces, $schemas: schemas } = raw;
  const state: LoadState = {
    context: BASE_URI_CONTEXT,
    fileUri: uri,
    fetchText,
    index: new Map([[uri, raw]]),
  };
  const outcome = loadDocument(DOCUMENT_ROOT, raw, uri, state);
  if (!outcome.ok) {
    return { ok: false, issue: outcome.issue, message: describeIssue(outcome.issue) };
  }

  const processes = (Array.isArray(outcome.value) ? outcome.value : [outcome.value]) as Array<
    Record<string, unknown>
  >;
  for (const process of processes) {
    if (namespaces !== null && namespaces !== undefined) process.$namespaces = namespaces;
    if (schemas !== null && schemas !== undefined) process.$schemas = schemas;
  }
  return { ok: true, processes };
}
