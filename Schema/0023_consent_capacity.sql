-- A young person of 15 to 17 consents alone only with a supervisor's assessment of their
-- capacity; the supervisor who made it is kept on the consent.
ALTER TABLE consent ADD COLUMN capacity_assessed_by uuid REFERENCES app_user (id);
