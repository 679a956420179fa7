-- The longest stay in `stays`, in whole seconds rounded up, plus one second of margin. The
-- co-presence join uses it to bound how early an overlapping stay can have started.
SELECT
  COALESCE(MAX(CAST(CEIL(EPOCH(t_out) - EPOCH(t_in)) AS BIGINT)), 0) + 1 AS max_dwell_seconds
FROM stays
