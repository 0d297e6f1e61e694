/* bench_summary.c — the CSV side of bin/bench: reading a CSV, its summary
 * (medians per model x connections), and picking a row out of loadgen's
 * output; see bench_summary.h. */
#include "bench_summary.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Print a number for a CSV: whole numbers without decimals, others with six
 * significant digits (enough for every figure we write). */
void csv_put_num(FILE *f, double v)
{
    if (fabs(v - round(v)) < 1e-9 && fabs(v) < 1e15)
        fprintf(f, "%.0f", v);
    else if (fabs(v) >= 1e6)
        fprintf(f, "%.1f", v);
    else
        fprintf(f, "%.6g", v);
}

/* Split s in place at commas; returns the number of fields (at most cap). */
int csv_split(char *s, char **field, int cap)
{
    int n = 0;
    char *p = s;
    while (n < cap) {
        field[n++] = p;
        p = strchr(p, ',');
        if (!p)
            break;
        *p++ = '\0';
    }
    return n;
}

/* Strip a trailing newline / carriage return. */
void csv_chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}




void csv_free(struct csv *c)
{
    for (int i = 0; i < c->nrows; i++)
        free(c->row[i]);
    free(c->row);
    free(c->col);
    free(c->text);
}

int csv_find(const struct csv *c, const char *name)
{
    for (int j = 0; j < c->ncols; j++)
        if (strcmp(c->col[j], name) == 0)
            return j;
    return -1;
}

/* Read a whole file into a NUL-terminated buffer; NULL with errno on failure. */
static char *csv_slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
        if (len + 1 == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger; /* NULL ends the loop: out of memory */
        }
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

int csv_load(const char *path, struct csv *c, char *why, size_t cap)
{
    memset(c, 0, sizeof *c);
    c->text = csv_slurp(path);
    if (!c->text) {
        snprintf(why, cap, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char *save = NULL;
    char *line = strtok_r(c->text, "\n", &save);
    if (!line) {
        snprintf(why, cap, "%s is empty", path);
        goto fail;
    }
    csv_chomp(line);
    c->col = calloc(CSV_MAX_COLS, sizeof *c->col);
    c->ncols = csv_split(line, c->col, CSV_MAX_COLS);
    for (char *l; (l = strtok_r(NULL, "\n", &save));) {
        csv_chomp(l);
        if (!*l)
            continue;
        char **f = calloc(CSV_MAX_COLS, sizeof *f);
        char ***more = realloc(c->row, (c->nrows + 1) * sizeof *c->row);
        if (!f || !more) {
            free(f);
            snprintf(why, cap, "out of memory reading %s", path);
            goto fail;
        }
        c->row = more;
        if (csv_split(l, f, CSV_MAX_COLS) != c->ncols) {
            snprintf(why, cap, "%s: row %d has a different number of fields than the header", path,
                     c->nrows + 2);
            free(f);
            goto fail;
        }
        c->row[c->nrows++] = f;
    }
    if (csv_find(c, "model") < 0 || csv_find(c, "conns") < 0) {
        snprintf(why, cap, "%s has no 'model' and 'conns' columns", path);
        goto fail;
    }
    return 0;
fail:
    csv_free(c);
    return -1;
}

int csv_is_num(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *s && !*end && !errno && isfinite(*v);
}

static int summary_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n-1] (sorts v). */
static double summary_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, summary_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Columns that get _min and _max beside their median, for error bars. */
static const char *const summary_spread_cols[] = {
    "msgs_per_s", "p99_us", "pss_per_conn_kib", "cpu_us_per_msg", "jain", "conns_per_s",
    "cpu_us_per_conn", "cores_busy", NULL,
};

/* Print one summary row for the rows `idx[0..n-1]` of c. numeric[j] says
 * whether column j is summarised. */
static void summary_row(FILE *out, const struct csv *c, const int *idx, int n,
                              const int *numeric)
{
    double *v = malloc((size_t)n * sizeof *v);
    int jm = csv_find(c, "model"), jc = csv_find(c, "conns");
    int je = csv_find(c, "errors"), jx = csv_find(c, "server_exit");
    int jd = csv_find(c, "disturbed"), jt = csv_find(c, "msgs_per_s");
    fprintf(out, "%s,%s", c->row[idx[0]][jm], c->row[idx[0]][jc]);
    for (int j = 0; j < c->ncols; j++) {
        if (!numeric[j] || j == jc)
            continue;
        for (int i = 0; i < n; i++)
            csv_is_num(c->row[idx[i]][j], &v[i]);
        fputc(',', out);
        csv_put_num(out, summary_median(v, n));
    }
    for (int s = 0; summary_spread_cols[s]; s++) {
        int j = csv_find(c, summary_spread_cols[s]);
        if (j < 0 || !numeric[j])
            continue;
        for (int i = 0; i < n; i++)
            csv_is_num(c->row[idx[i]][j], &v[i]);
        qsort(v, (size_t)n, sizeof *v, summary_cmp_double);
        fputc(',', out);
        csv_put_num(out, v[0]);
        fputc(',', out);
        csv_put_num(out, v[n - 1]);
    }
    int bad = 0, disturbed = 0;
    for (int i = 0; i < n; i++) {
        double e = 0;
        if (je >= 0 && csv_is_num(c->row[idx[i]][je], &e) && e > 0)
            bad++;
        else if (jx >= 0 && strcmp(c->row[idx[i]][jx], "0") != 0)
            bad++;
        disturbed += jd >= 0 && csv_is_num(c->row[idx[i]][jd], &e) && e > 0;
    }
    fprintf(out, ",%d,%d", n, bad);
    if (jd >= 0)
        fprintf(out, ",%d", disturbed);
    if (jt >= 0 && numeric[jt]) { /* (max - min) / median of the throughput, % */
        for (int i = 0; i < n; i++)
            csv_is_num(c->row[idx[i]][jt], &v[i]);
        double med = summary_median(v, n);
        fputc(',', out);
        csv_put_num(out, med > 0 ? round(1000 * (v[n - 1] - v[0]) / med) / 10 : 0);
    }
    fputc('\n', out);
    free(v);
}

/* Order groups: models by first appearance, then connections, then the
 * settings a sweep varies (per_conn, work) ascending. */
struct summary_group {
    int model_rank; /* position of the model's first appearance */
    double key[3];  /* connection count, per_conn, work (0 where the column is absent) */
    int first;      /* first row of the group, to recover the names */
};

static int summary_cmp_group(const void *a, const void *b)
{
    const struct summary_group *x = a, *y = b;
    if (x->model_rank != y->model_rank)
        return x->model_rank - y->model_rank;
    for (int i = 0; i < 3; i++)
        if (x->key[i] != y->key[i])
            return (x->key[i] > y->key[i]) - (x->key[i] < y->key[i]);
    return 0;
}

/* Row i's group keys: conns, per_conn, work (a sweep's runs are apart). */
void csv_group_keys(const struct csv *c, int i, double key[3])
{
    const char *names[3] = {"conns", "per_conn", "work"};
    for (int k = 0; k < 3; k++) {
        int j = csv_find(c, names[k]);
        key[k] = 0;
        if (j >= 0)
            csv_is_num(c->row[i][j], &key[k]);
    }
}

/* Write the summary of the CSV at `path` to `out`: one row per model x conns
 * with the median of every numeric column, min/max of a few, the number of
 * repetitions and of bad runs (loadgen errors or a server that did not exit
 * cleanly). Returns 0, or -1 with the reason in why. */
int summary_write(const char *path, FILE *out, char *why, size_t cap)
{
    struct csv c;
    if (csv_load(path, &c, why, cap) < 0)
        return -1;
    int numeric[CSV_MAX_COLS] = {0};
    int jm = csv_find(&c, "model"), jc = csv_find(&c, "conns"), jr = csv_find(&c, "rep");
    int jx = csv_find(&c, "server_exit"), jd = csv_find(&c, "disturbed");
    for (int j = 0; j < c.ncols; j++) {
        double v;
        numeric[j] = j != jm && j != jr && j != jx && j != jd && c.nrows > 0;
        for (int i = 0; i < c.nrows && numeric[j]; i++)
            numeric[j] = csv_is_num(c.row[i][j], &v);
    }
    if (c.nrows > 0 && !numeric[jc]) {
        snprintf(why, cap, "%s: the conns column is not numeric", path);
        csv_free(&c);
        return -1;
    }
    /* the header */
    fprintf(out, "model,conns");
    for (int j = 0; j < c.ncols; j++)
        if (numeric[j] && j != jc)
            fprintf(out, ",%s", c.col[j]);
    for (int s = 0; summary_spread_cols[s]; s++) {
        int j = csv_find(&c, summary_spread_cols[s]);
        if (j >= 0 && numeric[j])
            fprintf(out, ",%s_min,%s_max", c.col[j], c.col[j]);
    }
    fprintf(out, ",reps,bad_runs%s%s\n", jd >= 0 ? ",disturbed_runs" : "",
            csv_find(&c, "msgs_per_s") >= 0 && numeric[csv_find(&c, "msgs_per_s")] ? ",spread_pct" : "");

    /* group rows by (model, conns) */
    struct summary_group *g = calloc((size_t)c.nrows + 1, sizeof *g);
    int *idx = calloc((size_t)c.nrows + 1, sizeof *idx);
    int ng = 0;
    for (int i = 0; i < c.nrows; i++) {
        double key[3];
        csv_group_keys(&c, i, key);
        int rank = i;
        for (int k = 0; k < i; k++)
            if (strcmp(c.row[k][jm], c.row[i][jm]) == 0) {
                rank = k;
                break;
            }
        int seen = 0;
        for (int k = 0; k < ng && !seen; k++)
            seen = g[k].model_rank == rank && memcmp(g[k].key, key, sizeof key) == 0;
        if (!seen)
            g[ng++] = (struct summary_group){rank, {key[0], key[1], key[2]}, i};
    }
    qsort(g, (size_t)ng, sizeof *g, summary_cmp_group);
    for (int k = 0; k < ng; k++) {
        int n = 0;
        for (int i = 0; i < c.nrows; i++) {
            double key[3];
            csv_group_keys(&c, i, key);
            if (memcmp(key, g[k].key, sizeof key) == 0 &&
                strcmp(c.row[i][jm], c.row[g[k].first][jm]) == 0)
                idx[n++] = i;
        }
        summary_row(out, &c, idx, n, numeric);
    }
    free(idx);
    free(g);
    csv_free(&c);
    return 0;
}


int csv_pick(char *text, const char *marker, const char *const names[], char *vals[], const char *who,
             char *why, size_t cap)
{
    char *hdr = strstr(text, marker);
    if (!hdr) {
        snprintf(why, cap, "%s printed no CSV header", who);
        return -1;
    }
    while (hdr > text && hdr[-1] != '\n')
        hdr--;
    char *row = strchr(hdr, '\n');
    if (!row || !row[1]) {
        snprintf(why, cap, "%s printed a CSV header but no row", who);
        return -1;
    }
    *row++ = '\0';
    char *end = strchr(row, '\n');
    if (end)
        *end = '\0';
    csv_chomp(hdr);
    csv_chomp(row);
    char *h[CSV_MAX_COLS], *v[CSV_MAX_COLS];
    int nh = csv_split(hdr, h, CSV_MAX_COLS), nv = csv_split(row, v, CSV_MAX_COLS);
    if (nh != nv) {
        snprintf(why, cap, "%s's CSV row has %d fields, its header %d", who, nv, nh);
        return -1;
    }
    for (int k = 0; names[k]; k++) {
        vals[k] = NULL;
        for (int j = 0; j < nh; j++)
            if (strcmp(h[j], names[k]) == 0 && *v[j])
                vals[k] = v[j];
        if (!vals[k]) {
            snprintf(why, cap, "%s's CSV has no value for '%s'", who, names[k]);
            return -1;
        }
    }
    return 0;
}
