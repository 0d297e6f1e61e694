/* fetchd_parse.c — see fetchd_parse.h. The request line and each header
 * line are checked as RFC 9112 asks of a server (tokens, no control bytes,
 * no space before a colon); a request may not carry a body. */
#include "fetchd_parse.h"

#include <string.h>
#include <strings.h>

int fdp_num(const char *s, size_t n, uint64_t *v)
{
    if (n == 0)
        return -1;
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        uint64_t d = (uint64_t)(s[i] - '0');
        *v = *v > (UINT64_MAX - d) / 10 ? UINT64_MAX : *v * 10 + d;
    }
    return 0;
}

int fdp_span_is(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

static int is_tchar(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* Read the query string into r; returns NULL or why it is bad. */
static const char *parse_query(struct fdp_req *r, long max_delay_ms)
{
    const char *p = r->query, *end = r->query + r->query_len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        const char *val = eq ? eq + 1 : stop;
        size_t klen = (size_t)((eq ? eq : stop) - p), vlen = (size_t)(stop - val);
        uint64_t v;
        if (klen == 0 && vlen == 0) {
            /* empty parameter ("a=1&&b=2"): nothing to do */
        } else if (fdp_span_is(p, klen, "delay_ms")) {
            if (fdp_num(val, vlen, &v) < 0)
                return "delay_ms must be a whole number of milliseconds";
            if (v > (uint64_t)max_delay_ms)
                return "delay_ms is larger than --max-delay-ms";
            r->delay_ms = (long)v;
        } else if (fdp_span_is(p, klen, "chunked")) {
            if (!fdp_span_is(val, vlen, "0") && !fdp_span_is(val, vlen, "1"))
                return "chunked must be 0 or 1";
            r->chunked = val[0] == '1';
        } else {
            return "unknown query parameter (known: delay_ms, chunked)";
        }
        p = amp ? amp + 1 : end;
    }
    return NULL;
}

/* "GET /path?query HTTP/1.1": returns 0, or an error status with *why set. */
static int parse_request_line(const char *s, size_t n, struct fdp_req *r, const char **why)
{
    const char *sp1 = memchr(s, ' ', n);
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - s)) : NULL;
    *why = "malformed request line";
    if (!sp1 || !sp2 || sp1 == s)
        return 400;
    for (const char *p = s; p < sp1; p++)
        if (!is_tchar((unsigned char)*p))
            return 400;
    const char *target = sp1 + 1, *version = sp2 + 1;
    size_t tlen = (size_t)(sp2 - target), vlen = n - (size_t)(version - s);
    if (tlen == 0 || target[0] != '/')
        return 400;
    for (size_t i = 0; i < tlen; i++)
        if ((unsigned char)target[i] <= ' ' || (unsigned char)target[i] >= 0x7f)
            return 400;
    if (vlen != 8 || memcmp(version, "HTTP/", 5) != 0 || version[6] != '.' ||
        version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9')
        return 400;
    if (version[5] != '1') {
        *why = "only HTTP/1.x is spoken here";
        return 505;
    }
    r->http10 = version[7] == '0';
    r->head_only = fdp_span_is(s, (size_t)(sp1 - s), "HEAD");
    if (!r->head_only && !fdp_span_is(s, (size_t)(sp1 - s), "GET")) {
        *why = "only GET and HEAD are served";
        return 405;
    }
    const char *q = memchr(target, '?', tlen);
    r->path = target;
    r->path_len = q ? (size_t)(q - target) : tlen;
    r->query = q ? q + 1 : "";
    r->query_len = q ? tlen - r->path_len - 1 : 0;
    return 0;
}

/* Does the comma-separated list contain `token` (case-insensitive)? */
static int list_has(const char *s, size_t n, const char *token)
{
    size_t tl = strlen(token);
    for (size_t i = 0; i < n;) {
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
            i++;
        size_t j = i;
        while (j < n && s[j] != ',')
            j++;
        size_t e = j;
        while (e > i && (s[e - 1] == ' ' || s[e - 1] == '\t'))
            e--;
        if (e - i == tl && strncasecmp(s + i, token, tl) == 0)
            return 1;
        i = j;
    }
    return 0;
}

/* One "Name: value" line; returns 0, or an error status with *why set. */
static int parse_header(const char *s, size_t n, struct fdp_req *r, const char **why)
{
    const char *colon = memchr(s, ':', n);
    *why = "malformed header line";
    if (!colon || colon == s)
        return 400;
    for (const char *p = s; p < colon; p++)
        if (!is_tchar((unsigned char)*p))
            return 400; /* also refuses obs-fold and "Name : value" */
    size_t nlen = (size_t)(colon - s);
    const char *v = colon + 1, *end = s + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    for (const char *p = v; p < end; p++)
        if ((unsigned char)*p < ' ' && *p != '\t')
            return 400;
    size_t vlen = (size_t)(end - v);
    uint64_t len;
    if (nlen == 10 && strncasecmp(s, "connection", 10) == 0) {
        r->want_close |= list_has(v, vlen, "close");
        r->want_keep |= list_has(v, vlen, "keep-alive");
    } else if (nlen == 14 && strncasecmp(s, "content-length", 14) == 0) {
        if (fdp_num(v, vlen, &len) < 0) {
            *why = "malformed Content-Length";
            return 400;
        }
        if (len > 0) {
            *why = "requests with a body are not accepted";
            return 413;
        }
    } else if (nlen == 17 && strncasecmp(s, "transfer-encoding", 17) == 0) {
        *why = "requests with a body are not accepted";
        return 413;
    }
    return 0;
}

/* Parse buf[0, req_len) into r; returns 0, or an error status with *why set. */
static int parse_request(const struct fdp_in *in, struct fdp_req *r, const char **why)
{
    const char *p = in->buf, *end = in->buf + in->req_len;
    int first = 1;
    memset(r, 0, sizeof *r);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)(nl - p); /* a header section always ends in '\n' */
        if (n > 0 && p[n - 1] == '\r')
            n--;
        if (memchr(p, '\r', n) || memchr(p, '\0', n)) {
            *why = first ? "malformed request line" : "malformed header line";
            return 400;
        }
        int status = n == 0   ? 0 /* the blank line that ends the section */
                     : first ? parse_request_line(p, n, r, why)
                             : parse_header(p, n, r, why);
        if (status)
            return status;
        first = 0;
        p = nl + 1;
    }
    return 0;
}

/* Where the header section ends in buf[] (index after its blank line), or 0. */
static size_t find_head_end(struct fdp_in *in)
{
    for (size_t i = in->scanned; i < in->len; i++) {
        if (in->buf[i] != '\n')
            continue;
        if (i + 1 < in->len && in->buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < in->len && in->buf[i + 1] == '\r' && in->buf[i + 2] == '\n')
            return i + 3;
    }
    in->scanned = in->len > 2 ? in->len - 2 : 0;
    return 0;
}

void fdp_init(struct fdp_in *in)
{
    in->len = 0;
    in->req_len = 0;
    in->scanned = 0;
}

int fdp_take(struct fdp_in *in, struct fdp_req *r, long max_delay_ms, const char **why)
{
    /* Blank lines before a request line are ignored (RFC 9112 2.2). */
    size_t skip = 0;
    while (skip < in->len && (in->buf[skip] == '\r' || in->buf[skip] == '\n'))
        skip++;
    if (skip) {
        memmove(in->buf, in->buf + skip, in->len - skip);
        in->len -= skip;
        in->scanned = 0;
    }
    memset(r, 0, sizeof *r);
    in->req_len = find_head_end(in);
    if (in->req_len == 0) {
        if (in->len < sizeof in->buf)
            return FDP_MORE;
        *why = "header section larger than 8192 bytes";
        return 431;
    }
    int status = parse_request(in, r, why);
    if (status == 0 && (*why = parse_query(r, max_delay_ms)) != NULL)
        status = 400;
    return status;
}

void fdp_next(struct fdp_in *in)
{
    memmove(in->buf, in->buf + in->req_len, in->len - in->req_len);
    in->len -= in->req_len;
    in->req_len = 0;
    in->scanned = 0;
}
