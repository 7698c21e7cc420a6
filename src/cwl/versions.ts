/**
 * CWL version handling. cwl-ts-auto 0.1.3 accepts v1.2 syntax in documents that declare
 * v1.0 or v1.1, so the rules that changed between versions are checked here on the raw
 * document, and older documents are upgraded in memory to v1.2 semantics afterwards.
 */
import { CwlValidationError } from '../errors.js';
import { asArray, isObject, type CwlObject } from './model.js';

const KNOWN_VERSIONS = ['v1.0', 'v1.1', 'v1.2'];

/** Requirement classes added after v1.0. */
const ADDED_IN_V11 = [
  'LoadListingRequirement',
  'ToolTimeLimit',
  'WorkReuse',
  'NetworkAccess',
  'InplaceUpdateRequirement',
];

/**
 * Checks the raw document (before normalisation) against the rules of its declared
 * `cwlVersion` and returns that version. Throws CwlValidationError when the version is missing
 * or unknown, or when the document uses syntax of a later version.
 */
export function checkVersionRules(raw: CwlObject, file: string): string {
  const graph = Array.isArray(raw.$graph) ? raw.$graph.filter(isObject) : [raw];
  const version = raw.cwlVersion ?? graph.find((entry) => 'cwlVersion' in entry)?.cwlVersion;
  if (typeof version !== 'string') {
    throw invalid(file, 'missing "cwlVersion": add "cwlVersion: v1.2"');
  }
  if (!KNOWN_VERSIONS.includes(version)) {
    throw invalid(
      file,
      `unknown cwlVersion "${version}", expected one of ${KNOWN_VERSIONS.join(', ')}`,
    );
  }
  if (version === 'v1.2') return version;

  for (const process of graph) checkProcess(process, version, file);
  return version;
}

function checkProcess(process: CwlObject, version: string, file: string): void {
  if (process.class === 'Operation') throw invalid(file, `Operation needs cwlVersion v1.2`);

  for (const requirement of listRequirements(process)) {
    const className = requirement.class;
    if (version === 'v1.0' && ADDED_IN_V11.includes(String(className))) {
      throw invalid(file, `${className} needs cwlVersion v1.1 or later, not ${version}`);
    }
    if (className === 'ResourceRequirement') checkWholeResources(requirement, version, file);
  }

  if (version === 'v1.0') {
    for (const parameter of listParameters(process)) {
      const secondary = asArray(parameter.secondaryFiles);
      if (secondary.some(isObject)) {
        throw invalid(file, `secondaryFiles with "pattern" need cwlVersion v1.1 or later`);
      }
    }
  }

  for (const step of asArray(process.steps).filter(isObject)) {
    if ('when' in step) throw invalid(file, `a step with "when" needs cwlVersion v1.2`);
    if (isObject(step.run)) checkProcess(step.run, version, file);
  }
}

/** Before v1.2, ResourceRequirement counts are whole numbers. */
function checkWholeResources(requirement: CwlObject, version: string, file: string): void {
  for (const [key, value] of Object.entries(requirement)) {
    if (typeof value === 'number' && !Number.isInteger(value)) {
      throw invalid(
        file,
        `ResourceRequirement ${key}: ${value} must be a whole number in ${version}`,
      );
    }
  }
}

function listRequirements(process: CwlObject): CwlObject[] {
  return [process.requirements, process.hints].flatMap((block) => {
    if (Array.isArray(block)) return block.filter(isObject);
    if (!isObject(block)) return [];
    return Object.entries(block).map(([className, body]) => ({
      ...(isObject(body) ? body : {}),
      class: className,
    }));
  });
}

function listParameters(process: CwlObject): CwlObject[] {
  return [process.inputs, process.outputs].flatMap((block) => {
    if (Array.isArray(block)) return block.filter(isObject);
    if (!isObject(block)) return [];
    return Object.values(block).filter(isObject);
  });
}

/**
 * Upgrades a normalised process of an older version to v1.2 semantics in place. A v1.0 tool
 * listed Directory inputs deeply and had network access, so both become hints unless the
 * document sets them itself.
 */
export function upgradeToCurrentVersion(process: CwlObject, originalVersion: string): void {
  if (originalVersion === 'v1.2') return;
  process.cwlVersion = 'v1.2';
  if (originalVersion !== 'v1.0') return;

  const hints = asArray(process.hints);
  const mentioned = [...asArray(process.requirements), ...hints]
    .filter(isObject)
    .map((entry) => entry.class);
  if (!mentioned.includes('LoadListingRequirement')) {
    hints.push({ class: 'LoadListingRequirement', loadListing: 'deep_listing' });
  }
  if (!mentioned.includes('NetworkAccess')) {
    hints.push({ class: 'NetworkAccess', networkAccess: true });
  }
  process.hints = hints;
  for (const step of asArray(process.steps).filter(isObject)) {
    if (isObject(step.run)) upgradeToCurrentVersion(step.run, originalVersion);
  }
}

function invalid(file: string, detail: string): CwlValidationError {
  return new CwlValidationError('CWL_INVALID_DOCUMENT', `invalid CWL document ${file}: ${detail}`);
}
