-- What makes two logins the same account is decided in the application (lib/logins/): the canonical key
-- (RFC 8265 UsernameCaseMapped) and the UTS #39 confusable skeleton, each unique (migration 6). They are
-- filled for existing rows by migration 5, in code. `login` keeps the form first typed, for display.
alter table attune.identity add column login_key text, add column login_skeleton text;
