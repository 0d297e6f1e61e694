/* bench_summary.h — the CSV side of bin/bench: a CSV read into memory, the
 * summary of an echo.csv (medians per model x connections, for the charts),
 * and the one row a program such as loadgen prints after its header.
 * Errors come back as -1 with a one-line reason in `why` (cap bytes). */
#ifndef BENCH_SUMMARY_H
#define BENCH_SUMMARY_H

#include <stddef.h>
#include <stdio.h>

enum { CSV_MAX_COLS = 64 }; /* columns read at most */

/* A CSV held in memory: the header and rows as arrays of fields. */
struct csv {
    char **col;     /* column names */
    int ncols;      /* how many */
    char ***row;    /* row[i][j]: field j of row i */
    int nrows;      /* how many rows */
    char *text;     /* the file's bytes; every field points into it */
};

/* Read the CSV at path, which must have 'model' and 'conns' columns and the
 * same number of fields in every row. Returns 0, or -1 with the reason. */
int csv_load(const char *path, struct csv *c, char *why, size_t cap);
void csv_free(struct csv *c);
/* The index of column `name`, or -1. */
int csv_find(const struct csv *c, const char *name);

/* Row i's group keys: conns, per_conn, work (0 where the column is absent):
 * the summary's groups, and the comparisons' (bench_stats.h). */
void csv_group_keys(const struct csv *c, int i, double key[3]);

/* Split s in place at commas into field[]; returns the number of fields (at
 * most cap). */
int csv_split(char *s, char **field, int cap);
/* Strip trailing newlines and carriage returns. */
void csv_chomp(char *s);
/* 1 if s is a whole finite number (stored in *v), else 0. */
int csv_is_num(const char *s, double *v);
/* Print a number for a CSV: whole numbers without decimals, others with six
 * significant digits (enough for every figure we write). */
void csv_put_num(FILE *f, double v);

/* Write the summary of the CSV at `path` to `out`: a row per model x conns
 * (x per_conn x work, where those columns exist: a sweep's settings stay
 * apart) (models in order of first appearance, connections ascending) with the
 * median of every numeric column, _min and _max of a few, then reps and
 * bad_runs. Returns 0, or -1 with the reason. */
int summary_write(const char *path, FILE *out, char *why, size_t cap);

/* In a program's output `text` (changed in place), find the CSV header (the
 * line holding `marker`) and the row after it; point vals[k] at the row's
 * value of column names[k] (names ends with NULL). Returns 0, or -1 with the
 * reason, naming the program `who`. */
int csv_pick(char *text, const char *marker, const char *const names[], char *vals[], const char *who,
             char *why, size_t cap);

#endif
