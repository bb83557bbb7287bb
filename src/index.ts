/**
 * The Stigmer library API: load → validate → plan → apply over one Backend interface.
 * The CLI commands, the watcher and the GitHub Action are thin adapters over these exports.
 */

export { type ApplyOptions, type ApplyResult, applyPlan } from './apply/apply.js';
export type { ApplyEvent } from './apply/events.js';
export { renderApplyEvent, renderApplyJson } from './apply/render.js';
export * from './backend/config.js';
export { openBackend } from './backend/factory.js';
export { parseKind } from './backend/kinds.js';
export { LocalBackend, type LocalBackendOptions, openLocalBackend } from './backend/local/index.js';
export type * from './backend/types.js';
export {
  derivedProjectWarning,
  liveNameIndex,
  type PlanResult,
  type ProjectChoice,
  parseSources,
  planManifests,
  planParsed,
  type ReconcileOptions,
  readLiveState,
  resolveProject,
  resolveProjectChoice,
  sealDesiredSecrets,
} from './core/reconcile.js';
export * from './errors.js';
export {
  type AgentRunResult,
  createExecutionEnv,
  type ExecuteAgentOptions,
  type ExecutionEnv,
  executeAgent,
  prepareAgent,
  runAgentTurn,
} from './execute/agent.js';
export type { EventSink, ExecutionEvent } from './execute/events.js';
export { renderDot, renderMermaid, taskGraph } from './execute/graph.js';
export { type ChatMessage, startTurn, step } from './execute/loop.js';
export { type McpServerSpec, openMcpScope } from './execute/mcp.js';
export { createModelClient, type ModelClient, ModelError } from './execute/model.js';
export { RunCancelled } from './execute/run.js';
export { type ExecuteWorkflowOptions, executeWorkflow, type WorkflowRunResult } from './execute/workflow.js';
export {
  loadManifests,
  parseManifestFile,
  readManifestSources,
  validateManifestSet,
} from './manifest/index.js';
export type * from './manifest/types.js';
export { planChanges, planHasErrors } from './plan/plan.js';
export { parsePlanFile, serializePlanFile } from './plan/plan-file.js';
export { planToJson, renderPlanJson } from './plan/render-json.js';
export { renderPlanMarkdown } from './plan/render-markdown.js';
export { renderPlanText } from './plan/render-text.js';
export type * from './plan/types.js';
export * from './types.js';
