-- 003_execution_records: the PostgreSQL counterpart of migrations/003_execution_records.sql
-- (DESIGN.md §6c): start, finish and heartbeat times and the runner's lease as columns (a run
-- whose lease passed is recorded FAILED, "runner lost"); usage, task records and the transcript's
-- artifact id in the status JSON, resumedFrom in the spec JSON, a session's messages in its status.

ALTER TABLE agent_executions
  ADD COLUMN started_at timestamptz,
  ADD COLUMN finished_at timestamptz,
  ADD COLUMN heartbeat_at timestamptz,
  ADD COLUMN lease_until timestamptz;

ALTER TABLE workflow_executions
  ADD COLUMN started_at timestamptz,
  ADD COLUMN finished_at timestamptz,
  ADD COLUMN heartbeat_at timestamptz,
  ADD COLUMN lease_until timestamptz;

CREATE INDEX agent_executions_by_lease ON agent_executions (lease_until)
  WHERE phase IN ('PENDING', 'RUNNING') AND lease_until IS NOT NULL;
CREATE INDEX workflow_executions_by_lease ON workflow_executions (lease_until)
  WHERE phase IN ('PENDING', 'RUNNING') AND lease_until IS NOT NULL;
