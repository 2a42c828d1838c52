DROP TABLE superbills;
DROP TABLE custom_insurance_plan_names;
DROP TABLE fee_schedules;
DROP TABLE billing_profiles;
DROP TABLE patient_payment_log;
DROP TABLE patient_payments;
DROP TABLE transactions;
DROP TABLE line_items;
