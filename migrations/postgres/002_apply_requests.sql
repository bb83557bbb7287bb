-- 002_apply_requests: the PostgreSQL counterpart of migrations/002_apply_requests.sql. The
-- request ids of recent ApplyChanges batches with their results, so that a client retrying a
-- batch after a lost response (a dropped connection, a restarted server, another server of the
-- same database) gets the original results instead of applying twice. `batch_hash` refuses a
-- reused id with another batch; rows older than a day are deleted by later batches.
CREATE TABLE apply_requests (
  request_id text PRIMARY KEY CHECK (length(request_id) BETWEEN 1 AND 200),
  batch_hash text NOT NULL CHECK (length(batch_hash) = 64),
  results jsonb NOT NULL CHECK (jsonb_typeof(results) = 'array'),
  created_at timestamptz NOT NULL
);
CREATE INDEX apply_requests_by_time ON apply_requests (created_at);
