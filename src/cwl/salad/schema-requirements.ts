/**
 * The CWL v1.2 records that sit below parameters and processes: command-line bindings,
 * secondary-file patterns, File and Directory literals, and every requirement class, with
 * their fields in the order cwl-ts-auto 0.1.3 loads them.
 */
import { ENUM_SYMBOLS } from './vocabulary.js';
import {
  BOOLEAN,
  EXPRESSION,
  FLOAT,
  INT,
  STRING,
  defineRecord,
  idMap,
  listOf,
  oneOf,
  optional,
  record,
  secondaryFilesDsl,
  union,
  uri,
  type FieldType,
  type RecordSpec,
} from './types.js';

const OPTIONAL_STRING = optional(STRING);
const OPTIONAL_BOOLEAN = optional(BOOLEAN);
const STRING_OR_EXPRESSION = optional(STRING, EXPRESSION);
const LOAD_LISTING = optional(oneOf(ENUM_SYMBOLS.LoadListingEnum));
const RESOURCE = optional(INT, FLOAT, EXPRESSION);
const FILE_OR_DIRECTORY = union(record('File'), record('Directory'));

/** The requirement classes, in the order cwl-ts-auto tries them. */
export const REQUIREMENT_NAMES = [
  'InlineJavascriptRequirement',
  'SchemaDefRequirement',
  'LoadListingRequirement',
  'DockerRequirement',
  'SoftwareRequirement',
  'InitialWorkDirRequirement',
  'EnvVarRequirement',
  'ShellCommandRequirement',
  'ResourceRequirement',
  'WorkReuse',
  'NetworkAccess',
  'InplaceUpdateRequirement',
  'ToolTimeLimit',
  'SubworkflowFeatureRequirement',
  'ScatterFeatureRequirement',
  'MultipleInputFeatureRequirement',
  'StepInputExpressionRequirement',
];

function classOf(name: string): FieldType {
  return uri(oneOf([name]), { vocabTerm: true });
}

function requirement(name: string, fields: ReadonlyArray<readonly [string, FieldType]>) {
  return defineRecord(name, undefined, [['class', classOf(name)], ...fields]);
}

/** Bindings, secondary-file patterns, File and Directory literals, and requirements. */
export const BINDING_AND_REQUIREMENT_RECORDS: RecordSpec[] = [
  defineRecord('CommandLineBinding', undefined, [
    ['loadContents', OPTIONAL_BOOLEAN],
    ['position', optional(INT, EXPRESSION)],
    ['prefix', OPTIONAL_STRING],
    ['separate', OPTIONAL_BOOLEAN],
    ['itemSeparator', OPTIONAL_STRING],
    ['valueFrom', STRING_OR_EXPRESSION],
    ['shellQuote', OPTIONAL_BOOLEAN],
  ]),
  defineRecord('CommandOutputBinding', undefined, [
    ['loadContents', OPTIONAL_BOOLEAN],
    ['loadListing', LOAD_LISTING],
    ['glob', optional(STRING, EXPRESSION, listOf(STRING))],
    ['outputEval', optional(EXPRESSION)],
  ]),
  defineRecord('InputBinding', undefined, [['loadContents', OPTIONAL_BOOLEAN]]),
  defineRecord('SecondaryFileSchema', undefined, [
    ['pattern', union(STRING, EXPRESSION)],
    ['required', optional(BOOLEAN, EXPRESSION)],
  ]),
  defineRecord('File', undefined, [
    ['class', classOf('File')],
    ['location', uri(OPTIONAL_STRING, {})],
    ['path', uri(OPTIONAL_STRING, {})],
    ['basename', OPTIONAL_STRING],
    ['dirname', OPTIONAL_STRING],
    ['nameroot', OPTIONAL_STRING],
    ['nameext', OPTIONAL_STRING],
    ['checksum', OPTIONAL_STRING],
    ['size', optional(INT)],
    ['secondaryFiles', secondaryFilesDsl(optional(listOf(FILE_OR_DIRECTORY)))],
    ['format', uri(OPTIONAL_STRING, { scopedId: true })],
    ['contents', OPTIONAL_STRING],
  ]),
  defineRecord('Directory', undefined, [
    ['class', classOf('Directory')],
    ['location', uri(OPTIONAL_STRING, {})],
    ['path', uri(OPTIONAL_STRING, {})],
    ['basename', OPTIONAL_STRING],
    ['listing', optional(listOf(FILE_OR_DIRECTORY))],
  ]),
  defineRecord('Dirent', undefined, [
    ['entryname', STRING_OR_EXPRESSION],
    ['entry', union(STRING, EXPRESSION)],
    ['writable', OPTIONAL_BOOLEAN],
  ]),
  defineRecord('SoftwarePackage', undefined, [
    ['package', STRING],
    ['version', optional(listOf(STRING))],
    ['specs', uri(optional(listOf(STRING)), {})],
  ]),
  defineRecord('EnvironmentDef', undefined, [
    ['envName', STRING],
    ['envValue', union(STRING, EXPRESSION)],
  ]),

  requirement('InlineJavascriptRequirement', [['expressionLib', optional(listOf(STRING))]]),
  requirement('SchemaDefRequirement', [
    [
      'types',
      listOf(
        union(
          record('CommandInputRecordSchema'),
          record('CommandInputEnumSchema'),
          record('CommandInputArraySchema'),
        ),
      ),
    ],
  ]),
  requirement('LoadListingRequirement', [['loadListing', LOAD_LISTING]]),
  requirement(
    'DockerRequirement',
    [
      'dockerPull',
      'dockerLoad',
      'dockerFile',
      'dockerImport',
      'dockerImageId',
      'dockerOutputDirectory',
    ].map((name) => [name, OPTIONAL_STRING] as const),
  ),
  requirement('SoftwareRequirement', [
    ['packages', idMap(listOf(record('SoftwarePackage')), 'package', 'specs')],
  ]),
  requirement('InitialWorkDirRequirement', [
    [
      'listing',
      union(
        EXPRESSION,
        listOf(
          optional(
            record('Dirent'),
            EXPRESSION,
            record('File'),
            record('Directory'),
            listOf(FILE_OR_DIRECTORY),
          ),
        ),
      ),
    ],
  ]),
  requirement('EnvVarRequirement', [
    ['envDef', idMap(listOf(record('EnvironmentDef')), 'envName', 'envValue')],
  ]),
  requirement('ShellCommandRequirement', []),
  requirement(
    'ResourceRequirement',
    ['cores', 'ram', 'tmpdir', 'outdir'].flatMap((resource) => [
      [`${resource}Min`, RESOURCE] as const,
      [`${resource}Max`, RESOURCE] as const,
    ]),
  ),
  requirement('WorkReuse', [['enableReuse', union(BOOLEAN, EXPRESSION)]]),
  requirement('NetworkAccess', [['networkAccess', union(BOOLEAN, EXPRESSION)]]),
  requirement('InplaceUpdateRequirement', [['inplaceUpdate', BOOLEAN]]),
  requirement('ToolTimeLimit', [['timelimit', union(INT, EXPRESSION)]]),
  requirement('SubworkflowFeatureRequirement', []),
  requirement('ScatterFeatureRequirement', []),
  requirement('MultipleInputFeatureRequirement', []),
  requirement('StepInputExpressionRequirement', []),
];
