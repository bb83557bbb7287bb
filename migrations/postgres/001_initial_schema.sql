-- 001_initial_schema (PostgreSQL): the same tables as migrations/001_initial_schema.sql for
-- SQLite, so the PostgreSQL store behind `stigmer server` behaves exactly like the local one.
-- Differences, and why: JSON columns are `json` (kept as written: jsonb would reject \u0000 in a
-- string); names sort bytewise (COLLATE "C", like SQLite), so pages come back in the same order;
-- times are timestamptz from the database's clock (every server of one database agrees);
-- artifacts are bytea. `stigmer_state` holds the change counter behind StateToken.
-- `schema_version` itself is created by the migration runner (src/backend/postgres/migrate.ts).
-- Never edit this file once released: add migrations/postgres/NNN_name.sql instead (CONTRIBUTING.md).

-- One row: a random id of this store and the number of resource writes ever committed.
CREATE TABLE stigmer_state (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  store_id text NOT NULL,
  changes bigint NOT NULL DEFAULT 0 CHECK (changes >= 0)
);
INSERT INTO stigmer_state (store_id) VALUES (gen_random_uuid()::text);

-- Declared kinds: one table per kind, one row per (kind, name).

CREATE TABLE skills (
  id text PRIMARY KEY CHECK (left(id, 4) = 'skl_'),
  name text COLLATE "C" NOT NULL UNIQUE,
  labels json NOT NULL DEFAULT '{}' CHECK (json_typeof(labels) = 'object'),
  annotations json NOT NULL DEFAULT '{}' CHECK (json_typeof(annotations) = 'object'),
  spec json NOT NULL DEFAULT '{}' CHECK (json_typeof(spec) = 'object'),
  status json NOT NULL DEFAULT '{}' CHECK (json_typeof(status) = 'object'),
  version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE environments (
  id text PRIMARY KEY CHECK (left(id, 4) = 'env_'),
  name text COLLATE "C" NOT NULL UNIQUE,
  labels json NOT NULL DEFAULT '{}' CHECK (json_typeof(labels) = 'object'),
  annotations json NOT NULL DEFAULT '{}' CHECK (json_typeof(annotations) = 'object'),
  spec json NOT NULL DEFAULT '{}' CHECK (json_typeof(spec) = 'object'),
  status json NOT NULL DEFAULT '{}' CHECK (json_typeof(status) = 'object'),
  version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE agents (
  id text PRIMARY KEY CHECK (left(id, 4) = 'agt_'),
  name text COLLATE "C" NOT NULL UNIQUE,
  labels json NOT NULL DEFAULT '{}' CHECK (json_typeof(labels) = 'object'),
  annotations json NOT NULL DEFAULT '{}' CHECK (json_typeof(annotations) = 'object'),
  spec json NOT NULL DEFAULT '{}' CHECK (json_typeof(spec) = 'object'),
  status json NOT NULL DEFAULT '{}' CHECK (json_typeof(status) = 'object'),
  version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE workflows (
  id text PRIMARY KEY CHECK (left(id, 4) = 'wfl_'),
  name text COLLATE "C" NOT NULL UNIQUE,
  labels json NOT NULL DEFAULT '{}' CHECK (json_typeof(labels) = 'object'),
  annotations json NOT NULL DEFAULT '{}' CHECK (json_typeof(annotations) = 'object'),
  spec json NOT NULL DEFAULT '{}' CHECK (json_typeof(spec) = 'object'),
  status json NOT NULL DEFAULT '{}' CHECK (json_typeof(status) = 'object'),
  version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE agent_instances (
  id text PRIMARY KEY CHECK (left(id, 4) = 'ain_'),
  name text COLLATE "C" NOT NULL UNIQUE,
  labels json NOT NULL DEFAULT '{}' CHECK (json_typeof(labels) = 'object'),
  annotations json NOT NULL DEFAULT '{}' CHECK (json_typeof(annotations) = 'object'),
  spec json NOT NULL DEFAULT '{}' CHECK (json_typeof(spec) = 'object'),
  status json NOT NULL DEFAULT '{}' CHECK (json_typeof(status) = 'object'),
  version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE workflow_instances (
  id text PRIMARY KEY CHECK (left(id, 4) = 'win_'),
  name text COLLATE "C" NOT NULL UNIQUE,
  labels json NOT NULL DEFAULT '{}' CHECK (json_typeof(labels) = 'object'),
  annotations json NOT NULL DEFAULT '{}' CHECK (json_typeof(annotations) = 'object'),
  spec json NOT NULL DEFAULT '{}' CHECK (json_typeof(spec) = 'object'),
  status json NOT NULL DEFAULT '{}' CHECK (json_typeof(status) = 'object'),
  version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

-- Runtime records, created by commands (never by manifests). Their name defaults to the id.

-- A conversation: agent executions that follow one another share a session.
CREATE TABLE sessions (
  id text PRIMARY KEY CHECK (left(id, 4) = 'ses_'),
  name text COLLATE "C" NOT NULL UNIQUE,
  agent_name text,
  labels json NOT NULL DEFAULT '{}' CHECK (json_typeof(labels) = 'object'),
  annotations json NOT NULL DEFAULT '{}' CHECK (json_typeof(annotations) = 'object'),
  spec json NOT NULL DEFAULT '{}' CHECK (json_typeof(spec) = 'object'),
  status json NOT NULL DEFAULT '{}' CHECK (json_typeof(status) = 'object'),
  version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

-- spec holds {input}; status holds {output, error}; phase is a column for filtering.
CREATE TABLE agent_executions (
  id text PRIMARY KEY CHECK (left(id, 4) = 'aex_'),
  name text COLLATE "C" NOT NULL UNIQUE,
  agent_name text NOT NULL,
  session_id text REFERENCES sessions (id) ON DELETE SET NULL,
  phase text NOT NULL DEFAULT 'PENDING'
    CHECK (phase IN ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED')),
  labels json NOT NULL DEFAULT '{}' CHECK (json_typeof(labels) = 'object'),
  annotations json NOT NULL DEFAULT '{}' CHECK (json_typeof(annotations) = 'object'),
  spec json NOT NULL DEFAULT '{}' CHECK (json_typeof(spec) = 'object'),
  status json NOT NULL DEFAULT '{}' CHECK (json_typeof(status) = 'object'),
  version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX agent_executions_by_agent ON agent_executions (agent_name, created_at);
CREATE INDEX agent_executions_by_session ON agent_executions (session_id);

CREATE TABLE workflow_executions (
  id text PRIMARY KEY CHECK (left(id, 4) = 'wex_'),
  name text COLLATE "C" NOT NULL UNIQUE,
  workflow_name text NOT NULL,
  phase text NOT NULL DEFAULT 'PENDING'
    CHECK (phase IN ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED')),
  labels json NOT NULL DEFAULT '{}' CHECK (json_typeof(labels) = 'object'),
  annotations json NOT NULL DEFAULT '{}' CHECK (json_typeof(annotations) = 'object'),
  spec json NOT NULL DEFAULT '{}' CHECK (json_typeof(spec) = 'object'),
  status json NOT NULL DEFAULT '{}' CHECK (json_typeof(status) = 'object'),
  version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX workflow_executions_by_workflow ON workflow_executions (workflow_name, created_at);

-- What an execution runs with: references only (environment names), never values. Variables
-- and decrypted secrets are resolved from them just in time (GetExecutionContext).
CREATE TABLE execution_contexts (
  id text PRIMARY KEY CHECK (left(id, 5) = 'ectx_'),
  name text COLLATE "C" NOT NULL UNIQUE,
  execution_id text NOT NULL UNIQUE,
  labels json NOT NULL DEFAULT '{}' CHECK (json_typeof(labels) = 'object'),
  annotations json NOT NULL DEFAULT '{}' CHECK (json_typeof(annotations) = 'object'),
  spec json NOT NULL DEFAULT '{}' CHECK (json_typeof(spec) = 'object'),
  status json NOT NULL DEFAULT '{}' CHECK (json_typeof(status) = 'object'),
  version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

-- Audit trail: a snapshot of a declared resource after every create/update (before, for a
-- delete). Rows outlive the resource, so `stigmer history` shows deleted incarnations too.
-- seq orders the rows of one resource as they were written (row locks order the writers).
CREATE TABLE api_resource_versions (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind text NOT NULL,
  name text COLLATE "C" NOT NULL,
  resource_id text NOT NULL,
  version integer NOT NULL CHECK (version >= 1),
  action text NOT NULL CHECK (action IN ('create', 'update', 'delete')),
  labels json NOT NULL,
  annotations json NOT NULL,
  spec json NOT NULL,
  message text,
  created_at timestamptz NOT NULL
);
CREATE INDEX api_resource_versions_by_name ON api_resource_versions (kind, name, seq);
CREATE INDEX api_resource_versions_by_resource ON api_resource_versions (resource_id, version);

-- Files produced by executions (StoreArtifact/GetArtifact).
CREATE TABLE artifacts (
  id text PRIMARY KEY CHECK (left(id, 4) = 'art_'),
  execution_id text,
  name text NOT NULL,
  content_type text NOT NULL,
  data bytea NOT NULL,
  size integer NOT NULL CHECK (size >= 0),
  created_at timestamptz NOT NULL
);
CREATE INDEX artifacts_by_execution ON artifacts (execution_id);
