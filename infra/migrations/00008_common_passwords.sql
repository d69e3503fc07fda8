-- The password blocklist (NIST SP 800-63B): the first 16 bytes of the SHA-256 of each common password,
-- case folded (lib/passwords/strength.ts). Filled by migration 9 from infra/migrations/data/. A new password
-- is looked up by its digest, so the password itself never appears in a statement or its parameters.
create table attune.common_password (digest bytea primary key);
