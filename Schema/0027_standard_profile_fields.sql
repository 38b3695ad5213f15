-- The CTDC / HTCDS and GBVIMS core fields of the trafficking and violence profiles. None
-- identifies a person; all are typed and checked here as in HavenCore.

ALTER TABLE case_file
    ADD COLUMN recruitment_type text CHECK (recruitment_type IN
        ('job_offer', 'romantic_relationship', 'abduction', 'sold_by_family', 'online', 'other', 'unknown')),
    ADD COLUMN transit_countries text[] NOT NULL DEFAULT '{}',
    ADD COLUMN other_countries_of_exploitation text[] NOT NULL DEFAULT '{}',
    ADD COLUMN years_of_exploitation integer[] NOT NULL DEFAULT '{}',
    ADD COLUMN trafficked_as_child boolean,
    ADD COLUMN incident_date date,
    ADD COLUMN reported_on date,
    ADD COLUMN perpetrator_count integer CHECK (perpetrator_count BETWEEN 1 AND 99),
    ADD COLUMN perpetrator_sex text CHECK (perpetrator_sex IN ('female', 'male', 'both', 'unknown')),
    ADD COLUMN perpetrator_age_group text CHECK (perpetrator_age_group IN
        ('0-11', '12-17', '18-25', '26-40', '41-60', '61+', 'unknown')),
    ADD CONSTRAINT case_file_incident_before_report CHECK (incident_date <= reported_on);
