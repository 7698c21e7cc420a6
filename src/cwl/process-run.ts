/** State shared by the runners of every process class during one run. */
import type { RunDocumentOptions } from './index.js';
import type { LoadedDocument } from './loader.js';
import type { CwlObject } from './model.js';
import type { NamedTypes } from './schema.js';

/** One process being run, with its resolved input object and private folders. */
export interface ProcessRun {
  process: CwlObject;
  /** Input object with defaults applied and Files resolved, keyed by short input names. */
  inputs: Record<string, unknown>;
  named: NamedTypes;
  /** The tool's own output folder (`runtime.outdir`), whose outputs then move to `options.outdir`. */
  jobDir: string;
  /** `runtime.tmpdir`. */
  tmpDir: string;
  /** Folder for the staged input links and for File and Directory literals. */
  stagingDir: string;
  /** Paths of the input Files and Directories before staging; output links may point there. */
  inputSources: Set<string>;
  options: RunDocumentOptions;
  /** The loaded document of a top-level run, whose `$graph` steps may refer to. */
  document?: LoadedDocument;
}
