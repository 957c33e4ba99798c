-- The audit's checks of one table, written by hand: what a DBA would type into psql after the
-- incident. Table `flows` (id, master_id -> flows.id, created_at, updated_at); thresholds
-- and windows as the audit's defaults (7 days, 24 hours, 5 minutes of skew, 30 days).
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;

-- reversed stamps overall and in the windows, future stamps, NULLs
SELECT count(*) AS rows,
       count(*) FILTER (WHERE updated_at < created_at) AS reversed,
       count(*) FILTER (WHERE created_at >= now() - interval '7 days') AS rows_7d,
       count(*) FILTER (WHERE created_at >= now() - interval '7 days'
                          AND updated_at < created_at) AS reversed_7d,
       count(*) FILTER (WHERE created_at >= now() - interval '24 hours') AS rows_24h,
       count(*) FILTER (WHERE created_at >= now() - interval '24 hours'
                          AND updated_at < created_at) AS reversed_24h,
       count(*) FILTER (WHERE created_at > now() + interval '5 minutes') AS future,
       count(*) FILTER (WHERE created_at IS NULL) AS null_created,
       count(*) FILTER (WHERE updated_at IS NULL) AS null_updated
FROM flows;

-- reversed stamps per day over the last 30 days
SELECT created_at::date AS day, count(*) AS rows,
       count(*) FILTER (WHERE updated_at < created_at) AS reversed
FROM flows
WHERE created_at >= current_date - 29
GROUP BY 1 ORDER BY 1;

-- children whose stamps equal their master's: copies (another transaction) and rows that
-- the master's own transaction wrote (a shared now())
SELECT count(*) AS linked,
       count(*) FILTER (WHERE c.created_at = p.created_at AND c.xmin <> p.xmin) AS copied_created,
       count(*) FILTER (WHERE c.created_at = p.created_at AND c.xmin = p.xmin) AS same_created,
       count(*) FILTER (WHERE c.updated_at = p.updated_at AND c.xmin <> p.xmin) AS copied_updated,
       count(*) FILTER (WHERE c.updated_at = p.updated_at AND c.xmin = p.xmin) AS same_updated
FROM flows c JOIN flows p ON p.id = c.master_id
WHERE c.id <> p.id;

COMMIT;
