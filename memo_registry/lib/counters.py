"""Database triggers that run one statement on every write to some tables,
in the writer's own transaction: how the memo cache (a version counter it
raises) and the work tally (a log it adds a row to) tell that something
they keep was written, by whoever wrote it (the admin, a bulk COPY, raw
SQL, another process).

PostgreSQL runs it once per statement (and on TRUNCATE); SQLite, which has
only row triggers, once per row.  SQLite drops a table's triggers when a
migration rebuilds the table, so ``install_triggers`` runs after every
migrate.
"""


def install_triggers(conn, owner: str, suffix: str, bump: str, tables: list[str]) -> None:
    """Make every write to ``tables`` run ``bump`` (a statement on the table
    ``owner``, which names the PostgreSQL function), through triggers named
    ``<table>_<suffix>``; those present are kept."""
    quote = conn.ops.quote_name
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute(
                f"CREATE OR REPLACE FUNCTION {owner}_bump() RETURNS trigger LANGUAGE plpgsql "
                f"AS $$ BEGIN {bump}; RETURN NULL; END $$"
            )
            for table in tables:
                cursor.execute(
                    f"CREATE OR REPLACE TRIGGER {quote(f'{table}_{suffix}')} "
                    f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {quote(table)} "
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {owner}_bump()"
                )
        elif conn.vendor == "sqlite":
            for table in tables:
                for event in ("INSERT", "UPDATE", "DELETE"):
                    trigger = quote(f"{table}_{suffix}_{event.lower()}")
                    cursor.execute(
                        f"CREATE TRIGGER IF NOT EXISTS {trigger} AFTER {event} ON {quote(table)} "
                        f"BEGIN {bump}; END"
                    )
        else:  # pragma: no cover - the project runs on PostgreSQL and SQLite only
            raise NotImplementedError(f"no change triggers for {conn.vendor}")
