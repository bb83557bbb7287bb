/**
 * The one schema source for manifests (DESIGN.md §2): TypeBox definitions of the envelope and
 * of the spec of each declared kind. The validator compiles these with ajv (from their JSON
 * snapshot in schema-data.ts, which a test keeps equal to `allSchemas()`), and
 * `npm run gen:schemas` writes the same objects as JSON Schema files for editors
 * (schemas/*.json). Edit the shapes here and nowhere else.
 */
import { type TObject, type TSchema, Type } from '@sinclair/typebox';
import { API_VERSION, DECLARED_KINDS, type DeclaredKind } from '../types.js';
import { DNS_LABEL_PATTERN, IDENTIFIER_PATTERN } from './schema-constants.js';

export { DNS_LABEL, DNS_LABEL_PATTERN, ENVELOPE_KEYS, IDENTIFIER_PATTERN } from './schema-constants.js';

/** Where the published schemas live, for `$id` and the yaml-language-server modeline. */
export const SCHEMA_BASE_URL = 'https://stigmer.ai/schemas/v1';

const Name = (description: string) => Type.String({ pattern: DNS_LABEL_PATTERN, description });
const Identifier = (description: string) => Type.String({ pattern: IDENTIFIER_PATTERN, description });
const NameList = (description: string) =>
  Type.Array(Name('name of the referenced resource'), { description });
const StringMap = (description: string) => Type.Record(Type.String(), Type.String(), { description });

/** The `oneOf: [{required: [a]}, {required: [b]}]` idiom: exactly one of these keys is set. */
function exactlyOneOf(keys: string[]): { oneOf: Array<{ required: string[] }> } {
  return { oneOf: keys.map((k) => ({ required: [k] })) };
}

const McpStdio = Type.Object(
  {
    command: Type.String({ minLength: 1, description: 'executable that speaks MCP on stdin/stdout' }),
    args: Type.Optional(Type.Array(Type.String(), { description: 'command-line arguments' })),
    env: Type.Optional(StringMap('environment variables for the process')),
  },
  { additionalProperties: false },
);
const McpHttp = Type.Object(
  {
    url: Type.String({ minLength: 1, description: 'URL of a streamable-HTTP MCP server' }),
    headers: Type.Optional(StringMap('HTTP headers sent with every request')),
  },
  { additionalProperties: false },
);
const McpDocker = Type.Object(
  {
    image: Type.String({ minLength: 1, description: 'container image that speaks MCP on stdin/stdout' }),
    args: Type.Optional(Type.Array(Type.String(), { description: 'arguments after the image name' })),
    env: Type.Optional(StringMap('environment variables for the container')),
  },
  { additionalProperties: false },
);
const McpServerObject = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'name the agent knows this server by' }),
    stdio: Type.Optional(McpStdio),
    http: Type.Optional(McpHttp),
    docker: Type.Optional(McpDocker),
  },
  { additionalProperties: false, ...exactlyOneOf(['stdio', 'http', 'docker']) },
);
const McpServer = Type.Union(
  [Type.String({ minLength: 1, description: 'name of a well-known MCP server' }), McpServerObject],
  { description: 'an MCP server: a name, or an object with one stdio, http or docker transport' },
);

export const AgentSpec = Type.Object(
  {
    description: Type.Optional(Type.String({ description: 'one line shown in listings' })),
    instructions: Type.String({
      minLength: 10,
      description: 'system prompt of the agent (at least 10 characters)',
    }),
    mcpServers: Type.Optional(Type.Array(McpServer, { description: 'MCP servers the agent may call' })),
    skillRefs: Type.Optional(NameList('Skills the agent uses')),
    subAgents: Type.Optional(NameList('Agents this agent may delegate to')),
    config: Type.Optional(StringMap('model settings as strings: model, temperature, max_tokens, ...')),
  },
  { additionalProperties: false },
);

export const SkillSpec = Type.Object(
  {
    description: Type.Optional(Type.String({ description: 'one line shown in listings' })),
    tag: Type.Optional(Type.String({ minLength: 1, description: 'version tag of the skill, e.g. v1' })),
    skillMd: Type.Optional(Type.String({ minLength: 1, description: 'the skill as markdown' })),
    skillMdFile: Type.Optional(
      Type.String({ minLength: 1, description: 'markdown file with the skill, relative to this manifest' }),
    ),
  },
  { additionalProperties: false, ...exactlyOneOf(['skillMd', 'skillMdFile']) },
);

const ValueFrom = Type.Object(
  {
    env: Type.Optional(
      Type.String({ minLength: 1, description: 'environment variable to read at plan time' }),
    ),
    file: Type.Optional(
      Type.String({ minLength: 1, description: 'file to read, relative to this manifest' }),
    ),
    optional: Type.Optional(
      Type.Boolean({
        description:
          'when the variable is unset or empty, or the file is missing, keep the entry without a value',
      }),
    ),
  },
  { additionalProperties: false, ...exactlyOneOf(['env', 'file']) },
);
const EnvironmentEntry = Type.Object(
  {
    value: Type.Optional(Type.String({ description: 'the value, written in the manifest' })),
    valueFrom: Type.Optional(ValueFrom),
    isSecret: Type.Optional(Type.Boolean({ description: 'encrypted at rest, shown as (sensitive)' })),
    description: Type.Optional(Type.String()),
  },
  { additionalProperties: false, ...exactlyOneOf(['value', 'valueFrom']) },
);

export const EnvironmentSpec = Type.Object(
  {
    description: Type.Optional(Type.String({ description: 'one line shown in listings' })),
    data: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), EnvironmentEntry, {
        description: 'variables: KEY → {value | valueFrom, isSecret, description}',
        additionalProperties: false,
      }),
    ),
  },
  { additionalProperties: false },
);

export const WORKFLOW_INPUT_TYPES = ['string', 'number', 'boolean', 'object', 'array'] as const;

const WorkflowInput = Type.Object(
  {
    type: Type.Unsafe<(typeof WORKFLOW_INPUT_TYPES)[number]>({
      type: 'string',
      enum: [...WORKFLOW_INPUT_TYPES],
      description: 'type of the value',
    }),
    description: Type.Optional(Type.String()),
    required: Type.Optional(Type.Boolean({ description: 'an execution must give this input' })),
    default: Type.Optional(Type.Unknown({ description: 'value used when the input is not given' })),
  },
  { additionalProperties: false },
);

const WorkflowTask = Type.Object(
  {
    name: Identifier('task name, unique in the workflow'),
    agent: Name('Agent that runs the task'),
    description: Type.Optional(Type.String()),
    inputs: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description: `inputs of the task; may use \${workflow.inputs.X} and \${tasks.T.outputs.Y}`,
      }),
    ),
    outputs: Type.Optional(
      Type.Array(Identifier('output name'), { description: 'outputs the task produces' }),
    ),
    dependsOn: Type.Optional(
      Type.Array(Identifier('task name'), { description: 'tasks that run before this one' }),
    ),
  },
  { additionalProperties: false },
);

export const WorkflowSpec = Type.Object(
  {
    description: Type.Optional(Type.String({ description: 'one line shown in listings' })),
    inputs: Type.Optional(
      Type.Record(Type.String(), WorkflowInput, { description: 'inputs of an execution' }),
    ),
    tasks: Type.Array(WorkflowTask, { minItems: 1, description: 'the task graph' }),
  },
  { additionalProperties: false },
);

export const AgentInstanceSpec = Type.Object(
  {
    agent: Name('Agent this instance runs'),
    description: Type.Optional(Type.String({ description: 'one line shown in listings' })),
    environmentRefs: Type.Optional(NameList('Environments merged into the execution context, in order')),
  },
  { additionalProperties: false },
);

export const WorkflowInstanceSpec = Type.Object(
  {
    workflow: Name('Workflow this instance runs'),
    description: Type.Optional(Type.String({ description: 'one line shown in listings' })),
    environmentRefs: Type.Optional(NameList('Environments merged into the execution context, in order')),
  },
  { additionalProperties: false },
);

/** The spec schema of each declared kind. */
export const SPEC_SCHEMAS: Record<DeclaredKind, TObject> = {
  Skill: SkillSpec,
  Environment: EnvironmentSpec,
  Agent: AgentSpec,
  Workflow: WorkflowSpec,
  AgentInstance: AgentInstanceSpec,
  WorkflowInstance: WorkflowInstanceSpec,
};

export const Metadata = Type.Object(
  {
    name: Name('lowercase DNS label, unique per kind'),
    labels: Type.Optional(StringMap('string → string, for grouping and selection')),
    annotations: Type.Optional(
      StringMap('string → string; keys under stigmer.ai/ are reserved (except prune and prevent-destroy)'),
    ),
  },
  { additionalProperties: false },
);

/** The full document schema of one kind: envelope plus that kind's spec. */
export function documentSchema(kind: DeclaredKind): TObject {
  return Type.Object(
    {
      apiVersion: Type.Literal(API_VERSION),
      kind: Type.Literal(kind),
      metadata: Metadata,
      spec: SPEC_SCHEMAS[kind],
    },
    { additionalProperties: false, title: kind },
  );
}

/** `stigmer.yaml` at the manifest root: project settings, not a manifest. */
export const ProjectConfig = Type.Object(
  {
    project: Type.Optional(Name('project that owns the resources applied from this directory')),
  },
  { additionalProperties: false, title: 'stigmer.yaml' },
);

/** Every schema the validator compiles, keyed by what it checks. */
export function allSchemas(): Record<DeclaredKind | 'stigmer.yaml', TSchema> {
  const out = {} as Record<DeclaredKind | 'stigmer.yaml', TSchema>;
  for (const kind of DECLARED_KINDS) out[kind] = documentSchema(kind);
  out['stigmer.yaml'] = ProjectConfig;
  return out;
}
