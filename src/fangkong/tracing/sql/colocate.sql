-- Co-presence (时空伴随): every stay of another person at the same venue that overlaps a case
-- stay's effective interval (from case_stays.sql) by at least min_overlap_minutes (M) and by
-- more than zero. Output: one row per overlapping pair of stays.
--
-- The join is an interval join on (venue, hour bucket): each case stay is exploded over the hour
-- buckets in which an overlapping stay can have started, from the bucket of
-- cs_start - max_dwell_seconds (no stay lasts longer) to the bucket of cs_end; each other stay
-- has exactly one bucket, that of its t_in. The equi-join on both keys never pairs a case stay
-- with a stay that started days away, and the exact half-open overlap test follows.
WITH case_buckets AS (
  SELECT
    person_id,
    venue_id,
    cs_start,
    cs_end,
    UNNEST(
      GENERATE_SERIES(
        DATE_TRUNC('hour', cs_start - INTERVAL {max_dwell_seconds} SECOND),
        DATE_TRUNC('hour', cs_end),
        INTERVAL 1 HOUR
      )
    ) AS bucket
  FROM case_stays
),
pairs AS (
  SELECT
    cb.person_id AS case_person_id,
    o.person_id AS contact_person_id,
    o.venue_id AS venue_id,
    GREATEST(cb.cs_start, o.t_in) AS overlap_start,
    LEAST(cb.cs_end, o.t_out) AS overlap_end
  FROM case_buckets AS cb
  JOIN stays AS o
    ON o.venue_id = cb.venue_id
    AND DATE_TRUNC('hour', o.t_in) = cb.bucket
  WHERE o.t_in < cb.cs_end
    AND o.t_out > cb.cs_start
    AND o.person_id <> cb.person_id
)
SELECT
  case_person_id,
  contact_person_id,
  venue_id,
  overlap_start,
  overlap_end
FROM pairs
WHERE overlap_end > overlap_start
  AND overlap_end >= overlap_start + INTERVAL {min_overlap_minutes} MINUTE
