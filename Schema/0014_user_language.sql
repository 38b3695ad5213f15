-- The language a user chose for the console; NULL until they choose (their browser's
-- Accept-Language decides meanwhile).
ALTER TABLE app_user ADD COLUMN language text CHECK (language IN ('en', 'ro', 'ru', 'uk'));
