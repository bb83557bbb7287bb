-- 002_apply_requests: the request ids of recent ApplyChanges batches, with their results, so that
-- a client retrying a batch after a lost response (a dropped connection, a server restart, another
-- server of the same store) gets the original results instead of applying twice. `batch_hash` is
-- the sha256 of the batch, so a reused id with another batch is refused. Rows older than a day
-- are deleted by later batches. Never edit this file once released (CONTRIBUTING.md).
CREATE TABLE apply_requests (
  request_id TEXT PRIMARY KEY CHECK (length(request_id) BETWEEN 1 AND 200),
  batch_hash TEXT NOT NULL CHECK (length(batch_hash) = 64),
  results TEXT NOT NULL CHECK (json_valid(results) AND json_type(results) = 'array'),
  created_at TEXT NOT NULL
);
CREATE INDEX apply_requests_by_time ON apply_requests (created_at);
