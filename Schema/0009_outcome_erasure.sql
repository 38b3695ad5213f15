-- Outcomes of referrals and their transitions are free text, like notes: erasing a case clears
-- them too. A transition itself still never changes.
GRANT UPDATE (outcome) ON referral_transition TO haven_app;
