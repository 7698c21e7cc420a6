/**
 * Output collection of a CommandLineTool: `cwl.output.json`, `stdout`/`stderr` outputs, and
 * `outputBinding` (glob, loadContents, outputEval), followed by secondaryFiles and format.
 */
import { lstat, readFile, realpath } from './async-fs.js';
import path from 'node:path';
import { CwlExecutionError } from '../errors.js';
import type { Evaluator, RuntimeContext } from './evaluate.js';
import {
  buildListing,
  computeChecksum,
  readContents,
  setPathFields,
  statKind,
  localPathOf,
} from './files.js';
import { expandFormat } from './formats.js';
import { globOutputs } from './glob.js';
import {
  asArray,
  isFileLike,
  isObject,
  localName,
  type CwlFileLike,
  type CwlObject,
} from './model.js';
import {
  isOptionalType,
  matchBranch,
  resolveType,
  type CwlType,
  type NamedTypes,
} from './schema.js';
import { findSecondaryFiles } from './secondary-files.js';

/** Finished run, as output collection reads it. */
export interface OutputContext {
  process: CwlObject;
  named: NamedTypes;
  evaluator: Evaluator;
  runtime: RuntimeContext;
  /** The tool's output folder, where globs are evaluated. */
  outdir: string;
  /** Folders and files that an output symbolic link may point into. */
  linkTargets: string[];
  stdoutPath?: string;
  stderrPath?: string;
}

/**
 * Collects the output object of a finished CommandLineTool and checks it against the declared
 * output types. Throws CwlExecutionError when a required output is missing or invalid.
 */
export async function collectOutputs(context: OutputContext): Promise<Record<string, unknown>> {
  const fromFile = await readOutputJson(context.outdir);
  if (fromFile !== undefined) await resolveOutputFiles(fromFile, context.outdir);
  const outputs: Record<string, unknown> = {};

  for (const parameter of asArray(context.process.outputs).filter(isObject)) {
    const name = localName(String(parameter.id));
    const value =
      fromFile !== undefined ? fromFile[name] : await collectParameter(parameter, context);
    outputs[name] = value ?? null;
  }

  checkOutputTypes(context.process, outputs, context.named);
  return outputs;
}

/** Reads `cwl.output.json`, which replaces output collection when the tool writes it. */
async function readOutputJson(outdir: string): Promise<Record<string, unknown> | undefined> {
  const file = path.join(outdir, 'cwl.output.json');
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (isObject(parsed)) return parsed;
  } catch {
    // Reported below.
  }
  throw new CwlExecutionError('CWL_INVALID_OUTPUT', `${file} is not a JSON object`);
}

/** Resolves File and Directory objects written by the tool in `cwl.output.json`. */
async function resolveOutputFiles(value: unknown, outdir: string): Promise<void> {
  if (Array.isArray(value)) {
    for (const item of value) await resolveOutputFiles(item, outdir);
    return;
  }
  if (!isObject(value)) return;
  if (isFileLike(value)) {
    const localPath = localPathOf(value, outdir);
    if (localPath !== undefined) {
      setPathFields(value, localPath, value.basename ?? path.basename(localPath));
    }
  }
  for (const field of Object.values(value)) await resolveOutputFiles(field, outdir);
}

async function collectParameter(parameter: CwlObject, context: OutputContext): Promise<unknown> {
  const type = resolveType(parameter.type as CwlType, context.named);
  if (type === 'stdout' || type === 'stderr') {
    const file = type === 'stdout' ? context.stdoutPath : context.stderrPath;
    return file === undefined ? null : fileObject(file);
  }

  let value: unknown = null;
  if (isObject(parameter.outputBinding)) {
    value = await applyOutputBinding(parameter.outputBinding, type, context);
  } else if (isObject(type) && type.type === 'record') {
    value = await collectRecord(type, context);
  }

  for (const file of topLevelFiles(value)) {
    await addSecondaryFiles(file, parameter.secondaryFiles, context.evaluator);
    if (parameter.format !== undefined && file.class === 'File') {
      const format = String(await context.evaluator.evaluate(parameter.format, file));
      file.format = expandFormat(format, context.process.$namespaces);
    }
  }
  return value;
}

async function collectRecord(type: CwlObject, context: OutputContext): Promise<CwlObject> {
  const record: CwlObject = {};
  for (const field of asArray(type.fields).filter(isObject)) {
    const value = await collectParameter({ ...field, id: field.name }, context);
    record[localName(String(field.name))] = value;
  }
  return record;
}

async function applyOutputBinding(
  binding: CwlObject,
  type: CwlType,
  context: OutputContext,
): Promise<unknown> {
  const { evaluator, runtime } = context;
  const matches: CwlFileLike[] = [];

  if (binding.glob !== undefined) {
    const patterns = asArray(await evaluator.evaluate(binding.glob, null, { runtime }));
    for (const pattern of patterns) {
      for (const file of await globOutputs(context.outdir, globText(pattern))) {
        await checkLinkTarget(file, context.linkTargets);
        matches.push(await fileLikeObject(file));
      }
    }
  }
  if (binding.loadContents === true) {
    for (const file of matches) {
      if (file.class === 'File') file.contents = await readContents(file.path as string);
    }
  }
  if (binding.outputEval !== undefined) {
    return evaluator.evaluate(binding.outputEval, matches, { runtime });
  }
  if (binding.glob === undefined) return null;
  return shapeMatches(matches, type, context.named);
}

/**
 * Rejects an output that is a symbolic link to something outside the output folder and the
 * inputs, such as a file the tool wrote under /tmp: it would not survive the run.
 */
async function checkLinkTarget(file: string, linkTargets: string[]): Promise<void> {
  if (!(await lstat(file)).isSymbolicLink()) return;
  const real = await realpath(file);
  const roots = await Promise.all(
    linkTargets.map((target) => realpath(target).catch(() => target)),
  );
  if (roots.some((root) => real === root || real.startsWith(root + path.sep))) return;
  throw new CwlExecutionError(
    'CWL_INVALID_OUTPUT',
    `output ${file} is a symbolic link to ${real}, outside the output folder and the inputs`,
  );
}

function globText(pattern: unknown): string {
  if (typeof pattern === 'string') return pattern;
  if (isFileLike(pattern) && typeof pattern.path === 'string') return pattern.path;
  throw new CwlExecutionError(
    'CWL_INVALID_OUTPUT',
    `invalid glob ${JSON.stringify(pattern)}: expected a string or a list of strings`,
  );
}

/** Returns the glob matches as one File/Directory or as a list, by the declared type. */
function shapeMatches(matches: CwlFileLike[], type: CwlType, named: NamedTypes): unknown {
  if (matchBranch(type, matches, named) !== undefined) return matches;
  if (matches.length === 0) return null;
  if (matches.length === 1) return matches[0];
  return matches;
}

/** Makes a File or Directory object for a path in the output folder. */
async function fileLikeObject(file: string): Promise<CwlFileLike> {
  if ((await statKind(file)) === 'Directory') {
    const directory = setPathFields({ class: 'Directory' } as CwlFileLike, file);
    directory.listing = await buildListing(file, 'deep_listing');
    return directory;
  }
  return fileObject(file);
}

async function fileObject(file: string): Promise<CwlFileLike> {
  const value = setPathFields({ class: 'File' } as CwlFileLike, file);
  value.checksum = await computeChecksum(file);
  return value;
}

async function addSecondaryFiles(
  file: CwlFileLike,
  specs: unknown,
  evaluator: Evaluator,
): Promise<void> {
  if (specs === undefined || file.class !== 'File') return;
  const found = await findSecondaryFiles(file, specs, {
    evaluator,
    requiredByDefault: false,
    errorKind: 'output',
  });
  if (found.length > 0)
    file.secondaryFiles = [...asArray(file.secondaryFiles).filter(isFileLike), ...found];
}

function topLevelFiles(value: unknown): CwlFileLike[] {
  if (isFileLike(value)) return [value];
  if (Array.isArray(value)) return value.filter(isFileLike);
  return [];
}

/** Throws CwlExecutionError for an output value that does not match its declared type. */
export function checkOutputTypes(
  process: CwlObject,
  outputs: Record<string, unknown>,
  named: NamedTypes,
): void {
  for (const parameter of asArray(process.outputs).filter(isObject)) {
    const name = localName(String(parameter.id));
    const type = parameter.type as CwlType;
    const value = outputs[name];
    const declared = resolveType(type, named);
    // cwltool 3.1 accepts null for an output of type Any, and the conformance suite expects it.
    const acceptsNull = isOptionalType(type, named) || declared === 'Any';
    if ((value === null || value === undefined) && acceptsNull) continue;
    if (declared === 'stdout' || declared === 'stderr') continue;
    if (matchBranch(type, value ?? null, named) === undefined) {
      throw new CwlExecutionError(
        'CWL_INVALID_OUTPUT',
        `output "${name}" does not match its declared type: ${describeOutput(value)}`,
      );
    }
  }
}

function describeOutput(value: unknown): string {
  if (value === null || value === undefined) return 'it is missing';
  return JSON.stringify(value).slice(0, 200);
}
