/*
 * t_schema.h - unit tests' stores set back to an older schema, to test their migration on open:
 * the SQL that undoes schema 13's indicators columns and indexes, the version a migrated store
 * reaches, and a one-value query.
 * Include after <sqlite3.h>, <stdlib.h>, <string.h> and store_int.h.
 */
#ifndef ACCORD_TEST_T_SCHEMA_H
#define ACCORD_TEST_T_SCHEMA_H

/* Schema 13's indicators_id, indicators_type and indicators_type_vu and its three columns become
 * schema 12's indexes on the id and the type expression; indicators_src (srch in 13, created_by
 * in 12) is dropped: the caller makes what its schema had. */
#define T_SCHEMA13_UNDO                                                                            \
    "DROP INDEX indicators_src; DROP INDEX indicators_id; DROP INDEX indicators_type;"           \
    "DROP INDEX indicators_type_vu; ALTER TABLE indicators DROP COLUMN otype;"                    \
    "ALTER TABLE indicators DROP COLUMN idh; ALTER TABLE indicators DROP COLUMN srch;"            \
    "CREATE INDEX indicators_id ON indicators(id);"                                               \
    "CREATE INDEX indicators_type ON indicators(" STORE_IND_TYPE_V11 ") WHERE (flags & 2) = 0;"  \
    "CREATE INDEX indicators_type_vu ON indicators(" STORE_IND_TYPE_V11 ", valid_until)"          \
    " WHERE (flags & 2) = 0;"

/* The schema version a store has after its migration on open. */
#define T_SCHEMA_CURRENT "14"

/* The text of the first column of the first row of sql ("" when none); the caller frees it. */
static inline char *t_scalar_text(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    char *v = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_text(st, 0))
        v = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v ? v : strdup("");
}

/* Checks that store s reached the current schema version (after its migration on open). */
#define T_CHECK_SCHEMA_CURRENT(s)                                                                  \
    do {                                                                                           \
        char *t_v = t_scalar_text((s)->db, "PRAGMA user_version");                               \
        CHECK_STR(t_v, T_SCHEMA_CURRENT);                                                          \
        free(t_v);                                                                                 \
    } while (0)

#endif
