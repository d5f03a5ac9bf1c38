#!/bin/sh
# Creates Temporal's two PostgreSQL databases (`temporal`, `temporal_visibility`) and migrates
# them to the schema of the server version, with Temporal's SQL tool, as an operator does before
# the first start and after each server upgrade. Safe to run again: an existing database is kept,
# and update-schema applies only the versions not yet applied.
#
# Run by docker-compose.yml (the `temporal-schema` job, temporalio/admin-tools) and by
# `npm run test:cluster` (test/cluster), with:
#   SQL_HOST, SQL_PORT, SQL_USER, SQL_PASSWORD  where PostgreSQL is (read by the tool itself)
#   SQL_TOOL    the temporal-sql-tool binary (default: on PATH)
#   SCHEMA_DIR  the server version's schema/postgresql/v12 folder (default: admin-tools' own)
set -eu
: "${SQL_TOOL:=temporal-sql-tool}"
: "${SCHEMA_DIR:=/etc/temporal/schema/postgresql/v12}"
export SQL_PLUGIN=postgres12

for pair in temporal:temporal temporal_visibility:visibility; do
  db="${pair%%:*}"
  dir="$SCHEMA_DIR/${pair#*:}/versioned"
  if out="$("$SQL_TOOL" --db "$db" create-database 2>&1)"; then
    echo "created database $db"
  elif echo "$out" | grep -q 'already exists'; then
    echo "database $db already exists"
  else
    echo "$out" >&2
    exit 1
  fi
  "$SQL_TOOL" --db "$db" setup-schema -v 0.0
  "$SQL_TOOL" --db "$db" update-schema -d "$dir"
done
