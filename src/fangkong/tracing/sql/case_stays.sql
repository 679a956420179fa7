-- The case stays that count, in DuckDB's dialect (transpiled by sqlglot for Spark).
-- Inputs: `stays(person_id, venue_id, t_in, t_out)`, half-open [t_in, t_out), UTC;
--         `cases(person_id, window_start, window_end)`, half-open [window_start, window_end).
-- A case stay's effective interval is [t_in, t_out + L) clipped to the case's window;
-- L is the linger_minutes parameter. Stays whose effective interval is empty are dropped.
SELECT
  person_id,
  venue_id,
  cs_start,
  cs_end
FROM (
  SELECT
    s.person_id AS person_id,
    s.venue_id AS venue_id,
    GREATEST(s.t_in, c.window_start) AS cs_start,
    LEAST(s.t_out + INTERVAL {linger_minutes} MINUTE, c.window_end) AS cs_end
  FROM stays AS s
  JOIN cases AS c
    ON s.person_id = c.person_id
  WHERE s.t_in < c.window_end
    AND s.t_out + INTERVAL {linger_minutes} MINUTE > c.window_start
) AS clipped
WHERE cs_start < cs_end
