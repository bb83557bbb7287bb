-- 001_initial_schema: the original 12 tables of Stigmer's local (single-tenant) store, plus
-- artifacts. Spec and status are JSON text (checked with json_valid); ids carry a kind prefix;
-- every resource has a version counter for optimistic concurrency and labels/annotations maps.
-- Never edit this file once released: add migrations/NNN_name.sql instead (CONTRIBUTING.md).

-- Applied migrations: one row per file, with the sha256 of its text.
CREATE TABLE schema_version (
  version INTEGER PRIMARY KEY CHECK (version >= 1),
  name TEXT NOT NULL,
  sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
  applied_at TEXT NOT NULL
);

-- Declared kinds: one table per kind, one row per (kind, name).

CREATE TABLE skills (
  id TEXT PRIMARY KEY CHECK (substr(id, 1, 4) = 'skl_'),
  name TEXT NOT NULL UNIQUE,
  labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels) AND json_type(labels) = 'object'),
  annotations TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(annotations) AND json_type(annotations) = 'object'),
  spec TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(spec) AND json_type(spec) = 'object'),
  status TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(status) AND json_type(status) = 'object'),
  version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE environments (
  id TEXT PRIMARY KEY CHECK (substr(id, 1, 4) = 'env_'),
  name TEXT NOT NULL UNIQUE,
  labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels) AND json_type(labels) = 'object'),
  annotations TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(annotations) AND json_type(annotations) = 'object'),
  spec TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(spec) AND json_type(spec) = 'object'),
  status TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(status) AND json_type(status) = 'object'),
  version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE agents (
  id TEXT PRIMARY KEY CHECK (substr(id, 1, 4) = 'agt_'),
  name TEXT NOT NULL UNIQUE,
  labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels) AND json_type(labels) = 'object'),
  annotations TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(annotations) AND json_type(annotations) = 'object'),
  spec TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(spec) AND json_type(spec) = 'object'),
  status TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(status) AND json_type(status) = 'object'),
  version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE workflows (
  id TEXT PRIMARY KEY CHECK (substr(id, 1, 4) = 'wfl_'),
  name TEXT NOT NULL UNIQUE,
  labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels) AND json_type(labels) = 'object'),
  annotations TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(annotations) AND json_type(annotations) = 'object'),
  spec TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(spec) AND json_type(spec) = 'object'),
  status TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(status) AND json_type(status) = 'object'),
  version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE agent_instances (
  id TEXT PRIMARY KEY CHECK (substr(id, 1, 4) = 'ain_'),
  name TEXT NOT NULL UNIQUE,
  labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels) AND json_type(labels) = 'object'),
  annotations TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(annotations) AND json_type(annotations) = 'object'),
  spec TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(spec) AND json_type(spec) = 'object'),
  status TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(status) AND json_type(status) = 'object'),
  version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE workflow_instances (
  id TEXT PRIMARY KEY CHECK (substr(id, 1, 4) = 'win_'),
  name TEXT NOT NULL UNIQUE,
  labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels) AND json_type(labels) = 'object'),
  annotations TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(annotations) AND json_type(annotations) = 'object'),
  spec TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(spec) AND json_type(spec) = 'object'),
  status TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(status) AND json_type(status) = 'object'),
  version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- Runtime records, created by commands (never by manifests). Their name defaults to the id.

-- A conversation: agent executions that follow one another share a session.
CREATE TABLE sessions (
  id TEXT PRIMARY KEY CHECK (substr(id, 1, 4) = 'ses_'),
  name TEXT NOT NULL UNIQUE,
  agent_name TEXT,
  labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels) AND json_type(labels) = 'object'),
  annotations TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(annotations) AND json_type(annotations) = 'object'),
  spec TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(spec) AND json_type(spec) = 'object'),
  status TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(status) AND json_type(status) = 'object'),
  version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- spec holds {input}; status holds {output, error}; phase is a column for filtering.
CREATE TABLE agent_executions (
  id TEXT PRIMARY KEY CHECK (substr(id, 1, 4) = 'aex_'),
  name TEXT NOT NULL UNIQUE,
  agent_name TEXT NOT NULL,
  session_id TEXT REFERENCES sessions (id) ON DELETE SET NULL,
  phase TEXT NOT NULL DEFAULT 'PENDING'
    CHECK (phase IN ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED')),
  labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels) AND json_type(labels) = 'object'),
  annotations TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(annotations) AND json_type(annotations) = 'object'),
  spec TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(spec) AND json_type(spec) = 'object'),
  status TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(status) AND json_type(status) = 'object'),
  version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX agent_executions_by_agent ON agent_executions (agent_name, created_at);
CREATE INDEX agent_executions_by_session ON agent_executions (session_id);

CREATE TABLE workflow_executions (
  id TEXT PRIMARY KEY CHECK (substr(id, 1, 4) = 'wex_'),
  name TEXT NOT NULL UNIQUE,
  workflow_name TEXT NOT NULL,
  phase TEXT NOT NULL DEFAULT 'PENDING'
    CHECK (phase IN ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED')),
  labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels) AND json_type(labels) = 'object'),
  annotations TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(annotations) AND json_type(annotations) = 'object'),
  spec TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(spec) AND json_type(spec) = 'object'),
  status TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(status) AND json_type(status) = 'object'),
  version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX workflow_executions_by_workflow ON workflow_executions (workflow_name, created_at);

-- What an execution runs with: references only (environment names), never values. Variables
-- and decrypted secrets are resolved from them just in time (GetExecutionContext).
CREATE TABLE execution_contexts (
  id TEXT PRIMARY KEY CHECK (substr(id, 1, 5) = 'ectx_'),
  name TEXT NOT NULL UNIQUE,
  execution_id TEXT NOT NULL UNIQUE,
  labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels) AND json_type(labels) = 'object'),
  annotations TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(annotations) AND json_type(annotations) = 'object'),
  spec TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(spec) AND json_type(spec) = 'object'),
  status TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(status) AND json_type(status) = 'object'),
  version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- Audit trail: a snapshot of a declared resource after every create/update (before, for a
-- delete). Rows outlive the resource, so `stigmer history` shows deleted incarnations too.
CREATE TABLE api_resource_versions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  version INTEGER NOT NULL CHECK (version >= 1),
  action TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete')),
  labels TEXT NOT NULL CHECK (json_valid(labels)),
  annotations TEXT NOT NULL CHECK (json_valid(annotations)),
  spec TEXT NOT NULL CHECK (json_valid(spec)),
  message TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX api_resource_versions_by_name ON api_resource_versions (kind, name, seq);
CREATE INDEX api_resource_versions_by_resource ON api_resource_versions (resource_id, version);

-- Files produced by executions (StoreArtifact/GetArtifact).
CREATE TABLE artifacts (
  id TEXT PRIMARY KEY CHECK (substr(id, 1, 4) = 'art_'),
  execution_id TEXT,
  name TEXT NOT NULL,
  content_type TEXT NOT NULL,
  data BLOB NOT NULL,
  size INTEGER NOT NULL CHECK (size >= 0),
  created_at TEXT NOT NULL
);
CREATE INDEX artifacts_by_execution ON artifacts (execution_id);
