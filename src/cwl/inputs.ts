/**
 * Builds the input object of a run: defaults, type checks, and File/Directory normalisation
 * (absolute paths, name fields, size, literals, `loadContents`, `loadListing`,
 * `secondaryFiles`).
 */
import { randomHex } from './names.js';
import { mkdir, stat, writeFile } from './async-fs.js';
import path from 'node:path';
import { CwlValidationError } from '../errors.js';
import { closestName } from './load-errors.js';
import type { Evaluator } from './evaluate.js';
import {
  buildListing,
  readContents,
  setPathFields,
  localPathOf,
  type ListingDepth,
} from './files.js';
import { asArray, findRequirement, isFileLike, isObject, localName } from './model.js';
import type { CwlFileLike, CwlObject } from './model.js';
import { matchBranch, type CwlType, type NamedTypes } from './schema.js';
import { findSecondaryFiles } from './secondary-files.js';
import { placeEntry } from './staging.js';
import { checkValue } from './types.js';
import { checkType } from './types-check.js';
import { describeType } from './types-describe.js';

/** Run settings that input normalisation reads. */
export interface InputContext {
  process: CwlObject;
  named: NamedTypes;
  /** Folder of the job file: relative locations in the job resolve here. */
  jobBaseDir: string;
  /** Folder of the document: relative locations in `default` values resolve here. */
  documentDir: string;
  /** Folder that receives File and Directory literals. */
  stagingDir: string;
}

/**
 * Applies defaults, checks each value against its declared type and returns the input object
 * keyed by short input names. Files are not resolved yet; see {@link resolveInputFiles}.
 */
export function bindInputValues(
  context: InputContext,
  job: Record<string, unknown>,
): { values: Record<string, unknown>; fromDefault: Set<string> } {
  const values: Record<string, unknown> = {};
  const fromDefault = new Set<string>();
  const parameters = asArray(context.process.inputs).filter(isObject);
  const declared = new Set(parameters.map((parameter) => localName(String(parameter.id))));
  const undeclared = Object.keys(job).filter((key) => !declared.has(key));

  for (const parameter of parameters) {
    const name = localName(String(parameter.id));
    let value = job[name];
    if ((value === undefined || value === null) && parameter.default !== undefined) {
      value = structuredClone(parameter.default);
      fromDefault.add(name);
    }
    if (value === undefined || value === null) {
      checkRequired(name, parameter.type, value, context, undeclared);
    }
    values[name] = checkValue(parameter.type, value ?? null, {
      schemaDefs: context.named,
      path: `inputs.${name}`,
      source: fromDefault.has(name) ? 'default' : 'input object',
    });
  }
  return { values, fromDefault };
}

/**
 * Throws when input `name` has no value and its type does not accept null. When the input
 * object has a key close to `name` that no input declares (`undeclared`), the message names it.
 */
function checkRequired(
  name: string,
  type: unknown,
  value: null | undefined,
  context: InputContext,
  undeclared: string[],
): void {
  const state = { schemaDefs: context.named, depth: 0 };
  if (checkType(type, null, `inputs.${name}`, state).ok) return;

  const typeText = describeType(type);
  const misspelt = value === undefined ? closestName(name, undeclared) : undefined;
  let message: string;
  if (misspelt !== undefined) {
    message =
      `missing required input \`${name}\` (type ${typeText}); the input object has ` +
      `\`${misspelt}\`, which no input declares: rename it to \`${name}\``;
  } else if (value === undefined) {
    message = `missing required input \`${name}\` (type ${typeText}); add it to the input object or give it a default`;
  } else {
    message = `input \`${name}\` is null, but its type ${typeText} does not accept null; give it a value or a default`;
  }
  throw new CwlValidationError('CWL_INVALID_INPUT', message);
}

/**
 * Resolves every File and Directory of the input object in place: absolute paths, name
 * fields, size, literals written to the staging folder, `loadContents`, `loadListing` and
 * `secondaryFiles` of each parameter.
 */
export async function resolveInputFiles(
  context: InputContext,
  values: Record<string, unknown>,
  fromDefault: Set<string>,
  evaluator: Evaluator,
): Promise<void> {
  for (const parameter of asArray(context.process.inputs).filter(isObject)) {
    const name = localName(String(parameter.id));
    const baseDir = fromDefault.has(name) ? context.documentDir : context.jobBaseDir;
    values[name] = await resolveValue(values[name], baseDir, context);
    await applyParameterFileOptions(parameter, values[name], context, evaluator);
  }
}

async function resolveValue(
  value: unknown,
  baseDir: string,
  context: Pick<InputContext, 'stagingDir'>,
): Promise<unknown> {
  if (Array.isArray(value)) {
    return Promise.all(value.map((item) => resolveValue(item, baseDir, context)));
  }
  if (isFileLike(value)) return resolveFileLike(value, baseDir, context);
  if (isObject(value)) {
    for (const [key, field] of Object.entries(value)) {
      value[key] = await resolveValue(field, baseDir, context);
    }
  }
  return value;
}

/** Resolves one File or Directory, writing literals into the staging folder. */
export async function resolveFileLike(
  value: CwlFileLike,
  baseDir: string,
  context: Pick<InputContext, 'stagingDir'>,
): Promise<CwlFileLike> {
  const declaredPath = localPathOf(value, baseDir);
  let localPath: string;

  if (declaredPath !== undefined) {
    localPath = declaredPath;
    await checkExists(localPath, value.class);
  } else {
    localPath = await writeLiteral(value, baseDir, context);
  }

  setPathFields(value, localPath, value.basename ?? path.basename(localPath));
  if (value.class === 'File') value.size = (await stat(localPath)).size;
  if (Array.isArray(value.secondaryFiles)) {
    value.secondaryFiles = (await resolveValue(
      value.secondaryFiles,
      baseDir,
      context,
    )) as CwlFileLike[];
  }
  if (Array.isArray(value.listing) && declaredPath !== undefined) {
    value.listing = (await resolveValue(value.listing, baseDir, context)) as CwlFileLike[];
  }
  return value;
}

async function checkExists(localPath: string, kind: 'File' | 'Directory'): Promise<void> {
  const info = await stat(localPath).catch(() => undefined);
  const ok = info !== undefined && (kind === 'Directory' ? info.isDirectory() : info.isFile());
  if (!ok) {
    throw new CwlValidationError(
      'CWL_INPUT_NOT_FOUND',
      `input ${kind} ${localPath} not found: check its location or path`,
    );
  }
}

/** Writes a File literal (`contents`) or creates a Directory literal (`listing`). */
async function writeLiteral(
  value: CwlFileLike,
  baseDir: string,
  context: Pick<InputContext, 'stagingDir'>,
): Promise<string> {
  const dir = path.join(context.stagingDir, `literal-${randomHex(8)}`);
  await mkdir(dir, { recursive: true });
  const basename = value.basename ?? randomHex(12);
  const target = path.join(dir, basename);

  if (value.class === 'File') {
    if (typeof value.contents !== 'string') {
      throw new CwlValidationError(
        'CWL_INVALID_INPUT',
        `invalid File object ${JSON.stringify(value).slice(0, 200)}: it needs "location", "path" or "contents"`,
      );
    }
    await writeFile(target, value.contents);
    return target;
  }

  await mkdir(target, { recursive: true });
  for (const entry of asArray(value.listing).filter(isFileLike)) {
    const resolved = await resolveFileLike(entry, baseDir, context);
    await placeEntry(resolved, target, resolved.basename as string, false);
  }
  return target;
}

async function applyParameterFileOptions(
  parameter: CwlObject,
  value: unknown,
  context: InputContext,
  evaluator: Evaluator,
): Promise<void> {
  for (const item of flattenFileLikes(value)) {
    await applyFileOptions(parameter, item, context, evaluator);
  }

  // Fields of record values carry their own secondaryFiles, loadContents and loadListing.
  for (const record of flattenRecords(value)) {
    const type = matchBranch(parameter.type as CwlType, record, context.named);
    if (!isObject(type) || type.type !== 'record') continue;
    for (const field of asArray(type.fields).filter(isObject)) {
      const fieldValue = record[localName(String(field.name))];
      await applyParameterFileOptions(field, fieldValue, context, evaluator);
    }
  }
}

/** Applies `loadContents`, `loadListing` and `secondaryFiles` of `parameter` to one File or Directory. */
async function applyFileOptions(
  parameter: CwlObject,
  item: CwlFileLike,
  context: InputContext,
  evaluator: Evaluator,
): Promise<void> {
  const binding = isObject(parameter.inputBinding) ? parameter.inputBinding : {};
  const loadContents = parameter.loadContents === true || binding.loadContents === true;
  const depth = listingDepth(parameter, context.process);

  if (item.class === 'File' && loadContents && item.contents === undefined) {
    item.contents = await readContents(item.path as string);
  }
  if (item.class === 'Directory' && depth !== 'no_listing' && item.listing === undefined) {
    item.listing = await buildListing(item.path as string, depth);
  }
  if (item.class !== 'File' || parameter.secondaryFiles === undefined) return;

  const found = await findSecondaryFiles(item, parameter.secondaryFiles, {
    evaluator,
    requiredByDefault: true,
    errorKind: 'input',
  });
  const listed = asArray(item.secondaryFiles).filter(isFileLike);
  const known = new Set(listed.map((file) => file.path));
  item.secondaryFiles = [...listed, ...found.filter((file) => !known.has(file.path))];
}

/** Returns the record values (plain objects) of a value and of its arrays. */
function flattenRecords(value: unknown): CwlObject[] {
  if (Array.isArray(value)) return value.flatMap(flattenRecords);
  return isObject(value) && !isFileLike(value) ? [value] : [];
}

/** Returns `loadListing` of a parameter, else of LoadListingRequirement, else `no_listing`. */
function listingDepth(parameter: CwlObject, process: CwlObject): ListingDepth {
  const own = parameter.loadListing;
  if (typeof own === 'string') return own as ListingDepth;
  const requirement = findRequirement(process, 'LoadListingRequirement')?.requirement;
  const fromRequirement = requirement?.loadListing;
  return typeof fromRequirement === 'string' ? (fromRequirement as ListingDepth) : 'no_listing';
}

/** Returns the top-level File and Directory objects of a value and of its arrays. */
function flattenFileLikes(value: unknown): CwlFileLike[] {
  if (isFileLike(value)) return [value];
  if (Array.isArray(value)) return value.flatMap(flattenFileLikes);
  return [];
}
