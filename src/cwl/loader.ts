/**
 * Loads a CWL document into plain JSON. The YAML is parsed with `yaml`, checked against the
 * rules of its declared version, then normalised by the Salad normaliser (ids, type shorthands,
 * map forms) into plain objects with full IRIs, which the engine runs on.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from './async-fs.js';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CwlValidationError } from '../errors.js';
import { startExpressionWorker } from './expressions-js.js';
import {
  describeLoadError,
  describeReadError,
  describeUnknownInputType,
  findUnknownInputType,
} from './load-errors.js';
import { normaliseCwlDocument } from './salad/index.js';
import { collectNamedTypes } from './schema.js';
import { describeYamlError, parseCwlYaml } from './yaml.js';
import { checkVersionRules, upgradeToCurrentVersion } from './versions.js';
import { asArray, isObject, type CwlObject } from './model.js';

/** A loaded process and the document it came from. */
export interface LoadedDocument {
  /** The process to run, as plain JSON with full-IRI ids and `cwlVersion: v1.2`. */
  process: CwlObject;
  /** Every process of the file: one entry, or all entries of a packed `$graph`. */
  graph: CwlObject[];
  /** `file://` URI of the document, without fragment. */
  uri: string;
  /** `cwlVersion` as written in the document, before the in-memory upgrade. */
  originalVersion: string;
}

/** Reads a `file://` URL named by `$import` or `$include`; the normaliser fetches no other scheme. */
function readImportedFile(url: string): string {
  return readFileSync(fileURLToPath(url), 'utf8');
}

/**
 * Splits `doc.cwl#frag` into the file path and the fragment, if any. A path that names an
 * existing file is taken whole, since file names may contain `#`.
 */
export function splitFragment(document: string): { file: string; fragment: string | undefined } {
  const hash = document.lastIndexOf('#');
  if (hash < 0 || existsSync(document)) return { file: document, fragment: undefined };
  return { file: document.slice(0, hash), fragment: document.slice(hash + 1) };
}

/**
 * Loads the CWL document `document` (a path, optionally followed by `#fragment`) and returns
 * the selected process as plain JSON. Throws CwlValidationError for an unreadable or invalid
 * document, an unknown `cwlVersion` included.
 */
export async function loadCwlDocument(document: string, text?: string): Promise<LoadedDocument> {
  const { file, fragment } = splitFragment(document);
  const absolute = path.resolve(file);
  const uri = pathToFileURL(absolute).href;
  const source = text ?? (await readDocumentText(absolute));
  // A Workflow's steps may ask for JavaScript where the Workflow itself does not.
  if (source.includes('InlineJavascriptRequirement')) startExpressionWorker();
  const { raw, originalVersion } = prepareCwlDocument(source, absolute);

  // The normaliser deletes these two keys from the object it loads.
  const { $namespaces: namespaces, $schemas: schemas } = raw;
  const result = normaliseCwlDocument(raw, uri, readImportedFile);
  if (!result.ok) {
    throw new CwlValidationError(
      'CWL_INVALID_DOCUMENT',
      `invalid CWL document ${absolute}: ${describeLoadError(result.message, processClass(raw, fragment))}`,
    );
  }

  const graph = result.processes;
  for (const entry of graph) {
    upgradeToCurrentVersion(entry, originalVersion);
    // In a packed file, `$namespaces` and `$schemas` sit beside `$graph`, not in each process.
    entry.$namespaces ??= namespaces;
    entry.$schemas ??= schemas;
  }
  const process = selectProcess(graph, uri, fragment, absolute);
  checkInputTypeNames(process, absolute);
  return { process, graph, uri, originalVersion };
}

/** The parsed document, checked against its version's rules and ready to normalise. */
export interface PreparedDocument {
  raw: Record<string, unknown>;
  /** `cwlVersion` as written in the document. */
  originalVersion: string;
}

/**
 * Parses the text of the CWL document `file`, checks it against the rules of its declared
 * version and rewrites its `secondaryFiles` entries into their string form. Throws
 * CwlValidationError for invalid YAML, a top level that is not a mapping or an unknown version.
 */
export function prepareCwlDocument(text: string, file: string): PreparedDocument {
  const raw = parseDocumentText(text, file);
  const originalVersion = checkVersionRules(raw, file);
  rewriteSecondaryFiles(raw);
  return { raw, originalVersion };
}

/**
 * Rejects a process whose input types name an undefined type, such as a misspelled `strng`,
 * before any input value is read.
 *
 * NOTE: a SchemaDefRequirement given only under `cwl:requirements` in the input object is not
 * seen here, so a type defined there alone is reported as unknown.
 */
function checkInputTypeNames(process: CwlObject, file: string): void {
  const named = collectNamedTypes(process);
  const unknown = findUnknownInputType(process, named);
  if (unknown === undefined) return;
  throw new CwlValidationError(
    'CWL_INVALID_DOCUMENT',
    `invalid CWL document ${file}: ${describeUnknownInputType(unknown, named)}`,
  );
}

async function readDocumentText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new CwlValidationError(
      'CWL_INVALID_DOCUMENT',
      describeReadError('CWL document', file, error),
      { cause: error },
    );
  }
}

function parseDocumentText(text: string, file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = parseCwlYaml(text);
  } catch (error) {
    throw new CwlValidationError('CWL_INVALID_DOCUMENT', describeYamlError(file, error), {
      cause: error,
    });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CwlValidationError(
      'CWL_INVALID_DOCUMENT',
      `invalid CWL document ${file}: expected a mapping at the top level`,
    );
  }
  return parsed as Record<string, unknown>;
}

/**
 * Rewrites `secondaryFiles` entries `{pattern, required}` into the equivalent string form
 * (`".idx"`, or `".idx?"` when not required). The normaliser, like cwl-ts-auto 0.1.3, deletes
 * the keys of such an entry while it tries one branch of a union, so a later branch (a Workflow
 * input, for one) finds `{}` and rejects the document. Entries whose `required` is an expression stay as they are.
 */
function rewriteSecondaryFiles(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) rewriteSecondaryFiles(item);
    return;
  }
  if (!isObject(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'secondaryFiles') node[key] = asArray(value).map(toSecondaryString);
    else rewriteSecondaryFiles(value);
  }
}

function toSecondaryString(entry: unknown): unknown {
  if (!isObject(entry) || typeof entry.pattern !== 'string') return entry;
  const keys = Object.keys(entry).filter((key) => key !== 'pattern' && key !== 'required');
  if (keys.length > 0) return entry;
  if (entry.required === undefined || entry.required === true) return entry.pattern;
  if (entry.required === false) return `${entry.pattern}?`;
  return entry;
}

/**
 * Picks the process named by `fragment` from a packed `$graph`, or `#main` when no fragment is
 * given. The normaliser returns the whole graph and picks nothing itself.
 */
function selectProcess(
  graph: CwlObject[],
  uri: string,
  fragment: string | undefined,
  file: string,
): CwlObject {
  if (graph.length === 1 && fragment === undefined) return graph[0] as CwlObject;

  const processName = fragment ?? 'main';
  const found = graph.find((entry) => entry.id === `${uri}#${processName}`);
  if (found !== undefined) return found;
  if (fragment === undefined && graph.length === 1) return graph[0] as CwlObject;

  const names = graph.map((entry) => `#${String(entry.id).split('#').pop()}`).join(', ');
  throw new CwlValidationError(
    'CWL_INVALID_DOCUMENT',
    `process #${processName} not found in ${file}, which contains ${names || 'no process'}`,
  );
}

/** Returns the `class` of the process the document names, for error messages. */
function processClass(raw: Record<string, unknown>, fragment: string | undefined): unknown {
  if (!Array.isArray(raw.$graph)) return raw.class;
  const processName = fragment ?? 'main';
  const entry = raw.$graph.find(
    (item) => isObject(item) && (item.id === processName || item.id === `#${processName}`),
  );
  return isObject(entry) ? entry.class : undefined;
}
