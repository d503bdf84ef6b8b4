-- Rankings are served by the in-process index (store::rank_cache), which reads changes through
-- period_totals_changes: the two ordering indexes only slowed every sale's write.
DROP INDEX period_totals_approved;
DROP INDEX period_totals_provisional;
