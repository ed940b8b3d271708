#!/bin/sh
# One database and one user per service that has one (run once, by PostgreSQL's image, on an empty data volume):
# each service signs in as its own user and owns only its own database.
set -eu
for service in registry messaging alerts; do
    password_variable="$(echo "$service" | tr a-z A-Z)_DATABASE_PASSWORD"
    eval password="\${$password_variable}"
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
        -v name="$service" -v password="$password" <<'SQL'
CREATE USER :"name" PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
SQL
done
