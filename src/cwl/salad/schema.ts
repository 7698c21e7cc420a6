/**
 * The CWL v1.2 record types a process document may contain, with their fields in the order
 * cwl-ts-auto 0.1.3 loads them. Where that version departs from the CWL v1.2 schema, the
 * description follows cwl-ts-auto, so that documents load the same way:
 * - `CWLType` accepts only `File` and `Directory`; other type names pass as plain strings.
 * - `run` is not resolved as a URI, so a relative path stays relative.
 * - `hints`, `requirements` and `steps` in map form use `None` as the predicate key.
 */
import { BINDING_AND_REQUIREMENT_RECORDS, REQUIREMENT_NAMES } from './schema-requirements.js';
import { CWL_VERSIONS, ENUM_SYMBOLS } from './vocabulary.js';
import {
  ANY,
  BOOLEAN,
  EXPRESSION,
  INT,
  STRING,
  defineRecord,
  idMap,
  listOf,
  oneOf,
  optional,
  record,
  secondaryFilesDsl,
  typeDsl,
  union,
  uri,
  type FieldType,
  type RecordSpec,
} from './types.js';

const ID = uri(optional(STRING), { scopedId: true });
const NAME = uri(STRING, { scopedId: true });
const LABEL = optional(STRING);
const DOC = optional(STRING, listOf(STRING));
const OPTIONAL_BOOLEAN = optional(BOOLEAN);
const LOAD_LISTING = optional(oneOf(ENUM_SYMBOLS.LoadListingEnum));
const LINK_MERGE = optional(oneOf(ENUM_SYMBOLS.LinkMergeMethod));
const PICK_VALUE = optional(oneOf(ENUM_SYMBOLS.PickValueMethod));
const INPUT_FORMAT = uri(optional(STRING, listOf(STRING), EXPRESSION), { scopedId: true });
const OUTPUT_FORMAT = uri(optional(STRING, EXPRESSION), { scopedId: true });
const SECONDARY_FILES = secondaryFilesDsl(
  optional(record('SecondaryFileSchema'), listOf(record('SecondaryFileSchema'))),
);
const COMMAND_LINE_BINDING = optional(record('CommandLineBinding'));
const CWL_TYPE = oneOf(['File', 'Directory']);

function classOf(name: string): FieldType {
  return uri(oneOf([name]), { vocabTerm: true });
}

/** Builds the type field whose named schemas are the records `prefix` + RecordSchema, and so on. */
function schemaType(prefix: string, ...special: FieldType[]): FieldType {
  const schemas = [
    record(`${prefix}RecordSchema`),
    record(`${prefix}EnumSchema`),
    record(`${prefix}ArraySchema`),
  ];
  return typeDsl(
    union(CWL_TYPE, ...special, ...schemas, STRING, listOf(union(CWL_TYPE, ...schemas, STRING))),
  );
}

function schemaRecords(prefix: string, binding: boolean): RecordSpec[] {
  const extra: Array<readonly [string, FieldType]> = binding
    ? [['inputBinding', COMMAND_LINE_BINDING]]
    : [];
  const named = (kind: string): ReadonlyArray<readonly [string, FieldType]> => [
    ['name', ID],
    ['type', typeDsl(oneOf([kind]))],
    ['label', LABEL],
    ['doc', DOC],
  ];
  const [name, type, label, doc] = named('record');
  return [
    defineRecord(`${prefix}RecordSchema`, 'name', [
      name!,
      ['fields', idMap(optional(listOf(record(`${prefix}RecordField`))), 'name', 'type')],
      type!,
      label!,
      doc!,
      ...extra,
    ]),
    defineRecord(`${prefix}EnumSchema`, 'name', [
      name!,
      ['symbols', uri(listOf(STRING), { scopedId: true })],
      ...named('enum').slice(1),
      ...extra,
    ]),
    defineRecord(`${prefix}ArraySchema`, 'name', [
      name!,
      ['items', schemaType(prefix)],
      ...named('array').slice(1),
      ...extra,
    ]),
  ];
}

function inputField(prefix: string, binding: boolean): RecordSpec {
  return defineRecord(`${prefix}RecordField`, 'name', [
    ['name', NAME],
    ['doc', DOC],
    ['type', schemaType(prefix)],
    ['label', LABEL],
    ['secondaryFiles', SECONDARY_FILES],
    ['streamable', OPTIONAL_BOOLEAN],
    ['format', INPUT_FORMAT],
    ['loadContents', OPTIONAL_BOOLEAN],
    ['loadListing', LOAD_LISTING],
    ...(binding ? [['inputBinding', COMMAND_LINE_BINDING] as const] : []),
  ]);
}

function outputField(prefix: string, binding: boolean): RecordSpec {
  return defineRecord(`${prefix}RecordField`, 'name', [
    ['name', NAME],
    ['doc', DOC],
    ['type', schemaType(prefix)],
    ['label', LABEL],
    ['secondaryFiles', SECONDARY_FILES],
    ['streamable', OPTIONAL_BOOLEAN],
    ['format', OUTPUT_FORMAT],
    ...(binding ? [['outputBinding', optional(record('CommandOutputBinding'))] as const] : []),
  ]);
}

/** Fields every input parameter has, before its `type`. */
function inputParameter(name: string, type: FieldType, binding: FieldType): RecordSpec {
  return defineRecord(name, 'id', [
    ['id', ID],
    ['label', LABEL],
    ['secondaryFiles', SECONDARY_FILES],
    ['streamable', OPTIONAL_BOOLEAN],
    ['doc', DOC],
    ['format', INPUT_FORMAT],
    ['loadContents', OPTIONAL_BOOLEAN],
    ['loadListing', LOAD_LISTING],
    ['default', optional(ANY)],
    ['type', type],
    ...(binding === ANY ? [] : [['inputBinding', binding] as const]),
  ]);
}

function outputParameter(
  name: string,
  type: FieldType,
  extra: ReadonlyArray<readonly [string, FieldType]>,
): RecordSpec {
  return defineRecord(name, 'id', [
    ['id', ID],
    ['label', LABEL],
    ['secondaryFiles', SECONDARY_FILES],
    ['streamable', OPTIONAL_BOOLEAN],
    ['doc', DOC],
    ['format', OUTPUT_FORMAT],
    ...extra,
    ['type', type],
  ]);
}

const REQUIREMENTS = idMap(
  optional(listOf(union(...REQUIREMENT_NAMES.map(record)))),
  'class',
  'None',
);

/** The process classes, in the order cwl-ts-auto tries them. */
export const PROCESS_CLASSES = ['CommandLineTool', 'ExpressionTool', 'Workflow', 'Operation'];

const PROCESS = union(...PROCESS_CLASSES.map(record));

function processRecord(
  name: string,
  inputs: string,
  outputs: string,
  extra: ReadonlyArray<readonly [string, FieldType]>,
): RecordSpec {
  return defineRecord(name, 'id', [
    ['id', ID],
    ['class', classOf(name)],
    ['label', LABEL],
    ['doc', DOC],
    ['inputs', idMap(listOf(record(inputs)), 'id', 'type')],
    ['outputs', idMap(listOf(record(outputs)), 'id', 'type')],
    ['requirements', REQUIREMENTS],
    ['hints', idMap(optional(listOf(ANY)), 'class', 'None')],
    ['cwlVersion', uri(optional(oneOf(CWL_VERSIONS)), { vocabTerm: true })],
    ['intent', uri(optional(listOf(STRING)), { scopedId: true })],
    ...extra,
  ]);
}

const STRING_OR_EXPRESSION = optional(STRING, EXPRESSION);
const SCOPED_SOURCE = (refScope: number) => uri(optional(STRING, listOf(STRING)), { refScope });

const ALL_RECORDS: RecordSpec[] = [
  processRecord('CommandLineTool', 'CommandInputParameter', 'CommandOutputParameter', [
    ['baseCommand', optional(STRING, listOf(STRING))],
    ['arguments', optional(listOf(union(STRING, EXPRESSION, record('CommandLineBinding'))))],
    ['stdin', STRING_OR_EXPRESSION],
    ['stderr', STRING_OR_EXPRESSION],
    ['stdout', STRING_OR_EXPRESSION],
    ['successCodes', optional(listOf(INT))],
    ['temporaryFailCodes', optional(listOf(INT))],
    ['permanentFailCodes', optional(listOf(INT))],
  ]),
  processRecord('ExpressionTool', 'WorkflowInputParameter', 'ExpressionToolOutputParameter', [
    ['expression', EXPRESSION],
  ]),
  processRecord('Workflow', 'WorkflowInputParameter', 'WorkflowOutputParameter', [
    ['steps', idMap(union(listOf(record('WorkflowStep'))), 'id', 'None')],
  ]),
  processRecord('Operation', 'OperationInputParameter', 'OperationOutputParameter', []),

  inputParameter(
    'CommandInputParameter',
    schemaType('CommandInput', oneOf(['stdin'])),
    COMMAND_LINE_BINDING,
  ),
  outputParameter(
    'CommandOutputParameter',
    schemaType('CommandOutput', oneOf(['stdout']), oneOf(['stderr'])),
    [['outputBinding', optional(record('CommandOutputBinding'))]],
  ),
  inputParameter('WorkflowInputParameter', schemaType('Input'), optional(record('InputBinding'))),
  inputParameter('OperationInputParameter', schemaType('Input'), ANY),
  outputParameter('ExpressionToolOutputParameter', schemaType('Output'), []),
  outputParameter('OperationOutputParameter', schemaType('Output'), []),
  outputParameter('WorkflowOutputParameter', schemaType('Output'), [
    ['outputSource', SCOPED_SOURCE(0)],
    ['linkMerge', LINK_MERGE],
    ['pickValue', PICK_VALUE],
  ]),

  ...schemaRecords('CommandInput', true),
  ...schemaRecords('CommandOutput', false),
  ...schemaRecords('Input', false),
  ...schemaRecords('Output', false),
  inputField('CommandInput', true),
  outputField('CommandOutput', true),
  inputField('Input', false),
  outputField('Output', false),

  defineRecord('WorkflowStep', 'id', [
    ['id', ID],
    ['label', LABEL],
    ['doc', DOC],
    ['in', idMap(listOf(record('WorkflowStepInput')), 'id', 'source')],
    ['out', uri(union(listOf(union(STRING, record('WorkflowStepOutput')))), { scopedId: true })],
    ['requirements', REQUIREMENTS],
    ['hints', idMap(optional(listOf(ANY)), 'class', 'None')],
    ['run', union(STRING, PROCESS)],
    ['when', optional(EXPRESSION)],
    ['scatter', SCOPED_SOURCE(0)],
    ['scatterMethod', uri(optional(oneOf(ENUM_SYMBOLS.ScatterMethod)), { vocabTerm: true })],
  ]),
  defineRecord('WorkflowStepInput', 'id', [
    ['id', ID],
    ['source', SCOPED_SOURCE(2)],
    ['linkMerge', LINK_MERGE],
    ['pickValue', PICK_VALUE],
    ['loadContents', OPTIONAL_BOOLEAN],
    ['loadListing', LOAD_LISTING],
    ['label', LABEL],
    ['default', optional(ANY)],
    ['valueFrom', STRING_OR_EXPRESSION],
  ]),
  defineRecord('WorkflowStepOutput', 'id', [['id', ID]]),

  ...BINDING_AND_REQUIREMENT_RECORDS,
];

/** Every record type, by name. */
export const RECORDS: ReadonlyMap<string, RecordSpec> = new Map(
  ALL_RECORDS.map((spec) => [spec.name, spec]),
);

/** Type of a document's top level: one process, or a list of them. */
export const DOCUMENT_ROOT: FieldType = union(PROCESS, listOf(PROCESS));
