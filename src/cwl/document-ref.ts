/**
 * The command-line form of a document reference, `FILE` or `FILE#process`. This module has no
 * heavy imports, so that `exec` can read the document before it loads the engine.
 */
import { existsSync } from 'node:fs';

/**
 * Splits `doc.cwl#frag` into the file path and the fragment, if any. A path that names an
 * existing file is taken whole, since file names may contain `#`.
 */
export function splitFragment(document: string): { file: string; fragment: string | undefined } {
  const hash = document.lastIndexOf('#');
  if (hash < 0 || existsSync(document)) return { file: document, fragment: undefined };
  return { file: document.slice(0, hash), fragment: document.slice(hash + 1) };
}
