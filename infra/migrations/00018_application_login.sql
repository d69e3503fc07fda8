-- The application's own database login (docs/DEPLOY.md, infra/database.yml): `attune_login`, a user with the data
-- rights of attune_app and nothing else, that signs in with IAM tokens on RDS (DATABASE_AUTH=iam). Only the master
-- may grant rds_iam, so the database stack's one-time SQL creates it; when it exists, it gets attune_app here.
-- Elsewhere (npm start, the tests, a database of your own) it does not exist and this does nothing.
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'attune_login') then
    grant attune_app to attune_login;
  end if;
end
$$;
