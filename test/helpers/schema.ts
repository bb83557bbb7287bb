/** The 12 tables of the original schema (DESIGN.md §3), sorted by name. */
export const ORIGINAL_TABLES = [
  'agent_executions',
  'agent_instances',
  'agents',
  'api_resource_versions',
  'environments',
  'execution_contexts',
  'schema_version',
  'sessions',
  'skills',
  'workflow_executions',
  'workflow_instances',
  'workflows',
];
