-- 003_execution_records: what a run needs beyond phase, input, output and error (DESIGN.md §6c).
-- Times are columns (ISO-8601 UTC text, comparable as strings), so a lost runner is found by its
-- lease with an index; usage, task records and the transcript's artifact id live in the status
-- JSON, resumedFrom in the spec JSON, and a session's messages in its status JSON.

ALTER TABLE agent_executions ADD COLUMN started_at TEXT;
ALTER TABLE agent_executions ADD COLUMN finished_at TEXT;
ALTER TABLE agent_executions ADD COLUMN heartbeat_at TEXT;
ALTER TABLE agent_executions ADD COLUMN lease_until TEXT;

ALTER TABLE workflow_executions ADD COLUMN started_at TEXT;
ALTER TABLE workflow_executions ADD COLUMN finished_at TEXT;
ALTER TABLE workflow_executions ADD COLUMN heartbeat_at TEXT;
ALTER TABLE workflow_executions ADD COLUMN lease_until TEXT;

-- Unfinished runs that hold a lease: the only rows the "runner lost" check looks at.
CREATE INDEX agent_executions_by_lease ON agent_executions (lease_until)
  WHERE phase IN ('PENDING', 'RUNNING') AND lease_until IS NOT NULL;
CREATE INDEX workflow_executions_by_lease ON workflow_executions (lease_until)
  WHERE phase IN ('PENDING', 'RUNNING') AND lease_until IS NOT NULL;
