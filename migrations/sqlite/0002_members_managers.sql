-- Managers are looked up on every pending sale (to notify them): keep that off a table scan.
CREATE INDEX members_managers ON members (id) WHERE role IN ('manager', 'admin');
