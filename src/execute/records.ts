/**
 * Reading execution records for `stigmer execution list|get|logs|cancel`: the kind filter in
 * the CLI's spelling, the transcripts of a run (one for an agent execution, one per task of a
 * workflow execution), and a cancel that says what it did.
 */
import type { Backend, Execution, ExecutionKind } from '../backend/types.js';
import { StigmerError } from '../errors.js';
import type { Transcript } from './transcript.js';

export const EXECUTION_KINDS = { agent: 'AgentExecution', workflow: 'WorkflowExecution' } as const;

export function executionKind(value: string | undefined): ExecutionKind | undefined {
  if (value === undefined) return undefined;
  const kind = EXECUTION_KINDS[value.toLowerCase() as keyof typeof EXECUTION_KINDS];
  if (!kind) throw new StigmerError('USAGE', `--kind must be agent or workflow, got "${value}"`);
  return kind;
}

export async function listExecutionRecords(
  backend: Backend,
  filter: { kind?: string; target?: string; limit?: number },
): Promise<Execution[]> {
  const kind = executionKind(filter.kind);
  return backend.listExecutions({
    ...(kind ? { kind } : {}),
    ...(filter.target ? { target: filter.target } : {}),
    ...(filter.limit ? { pageSize: filter.limit } : {}),
  });
}

/** The transcripts of a run, in order: the agent's, or each task's that has one. */
export async function readTranscripts(
  backend: Backend,
  execution: Execution,
): Promise<Array<{ task?: string; transcript: Transcript }>> {
  const ids: Array<{ task?: string; id: string }> = [];
  if (execution.kind === 'AgentExecution') {
    if (execution.transcriptArtifactId) ids.push({ id: execution.transcriptArtifactId });
  } else {
    for (const task of execution.tasks) {
      if (task.transcriptArtifactId) ids.push({ task: task.name, id: task.transcriptArtifactId });
    }
  }
  const out: Array<{ task?: string; transcript: Transcript }> = [];
  for (const { task, id } of ids) {
    const artifact = await backend.getArtifact(id);
    const transcript = JSON.parse(new TextDecoder().decode(artifact.data)) as Transcript;
    out.push(task === undefined ? { transcript } : { task, transcript });
  }
  return out;
}

/** Cancels a run; `alreadyFinished` when it had ended (a finished run is not changed). */
export async function cancelExecutionRecord(
  backend: Backend,
  id: string,
): Promise<{ execution: Execution; alreadyFinished: boolean }> {
  const current = await backend.getExecution(id);
  if (current.phase === 'COMPLETED' || current.phase === 'FAILED' || current.phase === 'CANCELLED') {
    return { execution: current, alreadyFinished: true };
  }
  try {
    return { execution: await backend.cancelExecution(id), alreadyFinished: false };
  } catch (err) {
    if (err instanceof StigmerError && err.code === 'CONFLICT') {
      return { execution: await backend.getExecution(id), alreadyFinished: true };
    }
    throw err;
  }
}
