-- The permission the service-account admin routes need (README "Service accounts"), held by the built-in
-- admin role; those routes also need a second factor (acr aal2).
insert into attune.permission (name, description) values ('service_accounts:manage', 'Create service accounts and their API keys')
on conflict (name) do nothing;
insert into attune.role_permission (role, permission) values ('admin', 'service_accounts:manage') on conflict do nothing;
