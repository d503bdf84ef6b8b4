-- A partner's totals across periods (badge facts: approved sales, best month) are read by
-- partner; the primary key starts with the period.
CREATE INDEX period_totals_partner ON period_totals (partner_id);
