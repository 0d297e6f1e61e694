/* http.c — see http.h. A hand-written state machine: each phase of a response
 * (status line, headers, body, chunks) consumes what it can of the bytes fed
 * and moves to the next phase; lines are gathered in one fixed buffer. */
#include "http.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- URLs and requests ------------------------------------------------- */

/* err = fmt with the URL in it; control bytes in the URL become '?', so the
 * message stays one line whatever the URL holds. */
static int url_fail(char *err, size_t errlen, const char *fmt, const char *what)
{
    char shown[201];
    size_t i = 0;
    for (; what[i] && i < sizeof shown - 1; i++)
        shown[i] = (unsigned char)what[i] < ' ' || what[i] == 0x7f ? '?' : what[i];
    shown[i] = '\0';
    snprintf(err, errlen, fmt, shown);
    return -1;
}

/* Is host a dotted IPv4 address (four numbers 0..255) or "localhost"? */
static int http_host_ok(const char *host)
{
    if (strcmp(host, "localhost") == 0)
        return 1;
    int parts = 0;
    const char *p = host;
    for (;;) {
        if (!isdigit((unsigned char)*p))
            return 0;
        long v = 0;
        int digits = 0;
        while (isdigit((unsigned char)*p) && digits < 4) {
            v = v * 10 + (*p++ - '0');
            digits++;
        }
        if (digits > 3 || v > 255)
            return 0;
        parts++;
        if (*p == '\0')
            return parts == 4;
        if (*p++ != '.' || parts == 4)
            return 0;
    }
}

int http_url_parse(const char *text, struct http_url *u, char *err, size_t errlen)
{
    static const char scheme[] = "http://";
    memset(u, 0, sizeof *u);
    if (strncasecmp(text, scheme, sizeof scheme - 1) != 0)
        return url_fail(err, errlen, "'%.200s': only http:// URLs are supported", text);
    const char *host = text + sizeof scheme - 1;
    size_t hlen = strcspn(host, ":/?#");
    if (hlen == 0 || hlen >= sizeof u->host)
        return url_fail(err, errlen, "'%.200s': missing or too long host", text);
    memcpy(u->host, host, hlen);
    if (!http_host_ok(u->host))
        return url_fail(err, errlen,
                        "'%.200s': host must be a dotted IPv4 address or localhost", text);
    const char *p = host + hlen;
    u->port = 80;
    if (*p == ':') {
        /* digits only: strtol would take "+80", " 80" and "-0" */
        size_t nd = strspn(p + 1, "0123456789");
        long port = 0;
        for (size_t i = 0; i < nd && i < 6; i++)
            port = port * 10 + (p[1 + i] - '0');
        if (nd == 0 || nd > 5 || port < 1 || port > 65535 || !strchr("/?#", p[1 + nd])) /* '\0' matches too */
            return url_fail(err, errlen, "'%.200s': bad port", text);
        u->port = (int)port;
        p += 1 + nd;
    }
    size_t plen = strcspn(p, "#"); /* the fragment is the client's alone */
    int slash = *p != '/';         /* "http://h" and "http://h?q" mean "/" and "/?q" */
    if (plen + (size_t)slash >= sizeof u->path)
        return url_fail(err, errlen, "'%.200s': path too long", text);
    for (size_t i = 0; i < plen; i++)
        if ((unsigned char)p[i] <= ' ' || (unsigned char)p[i] >= 0x7f) /* RFC 3986: percent-encode the rest */
            return url_fail(err, errlen, "'%.200s': space, control or non-ASCII byte in path", text);
    u->path[0] = '/';
    memcpy(u->path + slash, p, plen);
    u->path[plen + (size_t)slash] = '\0';
    return 0;
}

int http_request(char *buf, size_t cap, const struct http_url *u, int keepalive)
{
    int n;
    if (u->port == 80)
        n = snprintf(buf, cap, "GET %s HTTP/1.1\r\nHost: %s\r\n", u->path, u->host);
    else
        n = snprintf(buf, cap, "GET %s HTTP/1.1\r\nHost: %s:%d\r\n", u->path, u->host, u->port);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    int m = snprintf(buf + n, cap - (size_t)n,
                     "User-Agent: c10k-lab\r\nAccept: */*\r\nConnection: %s\r\n\r\n",
                     keepalive ? "keep-alive" : "close");
    if (m < 0 || (size_t)m >= cap - (size_t)n)
        return -1;
    return n + m;
}

int64_t http_bytes_path(const struct http_url *u)
{
    static const char prefix[] = "/bytes/";
    if (strncmp(u->path, prefix, sizeof prefix - 1) != 0)
        return -1;
    const char *p = u->path + sizeof prefix - 1;
    int64_t n = 0;
    int digits = 0;
    for (; isdigit((unsigned char)*p); p++, digits++) {
        if (digits >= 15) /* far beyond any body we would fetch */
            return -1;
        n = n * 10 + (*p - '0');
    }
    if (digits == 0 || (*p && *p != '?'))
        return -1;
    return n;
}

/* ---- the response parser ---------------------------------------------- */

void http_resp_init(struct http_resp *r)
{
    r->phase = HTTP_P_STATUS;
    r->status = 0;
    r->minor = 1;
    r->content_length = -1;
    r->chunked = 0;
    r->close = 0;
    r->extra = 0;
    r->body = 0;
    r->chunk_left = 0;
    r->interim = 0;
    r->trailers = 0;
    r->head_bytes = 0;
    r->received = 0;
    r->line_len = 0;
    r->reason[0] = '\0';
}

__attribute__((format(printf, 2, 3)))
static int http_fail(struct http_resp *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reason, sizeof r->reason, fmt, ap);
    va_end(ap);
    r->phase = HTTP_P_ERROR;
    return HTTP_ERR;
}

/* What the line being gathered is called in messages. */
static const char *http_line_name(const struct http_resp *r)
{
    switch (r->phase) {
    case HTTP_P_STATUS: return "status line";
    case HTTP_P_CHUNK_SIZE: return "chunk size line";
    case HTTP_P_TRAILERS: return "trailer line";
    default: return "header line";
    }
}

/* Gather bytes into r->line up to and including '\n'. Returns how many bytes
 * of p it used; sets *complete when the line is whole (the CR LF or LF is
 * stripped). Sets the error phase if the line, or the header or trailer
 * section it belongs to, grows too long, or if it holds a NUL or a bare CR
 * (RFC 9112 2.2: a NUL would cut "Content-Length: 5\0junk" short). Which
 * limit fails is decided by the byte that crosses it first, so any slicing
 * of the same bytes gives the same reason. */
static size_t http_take_line(struct http_resp *r, const char *p, size_t n, int *complete)
{
    const char *nl = memchr(p, '\n', n);
    size_t use = nl ? (size_t)(nl - p) + 1 : n;
    size_t line_room = sizeof r->line - 1 - r->line_len;
    int counted = r->phase <= HTTP_P_HEADERS || r->phase == HTTP_P_TRAILERS;
    size_t head_room = counted ? HTTP_HEAD_MAX - r->head_bytes : SIZE_MAX;
    *complete = 0;
    if (use > head_room && head_room < line_room) {
        http_fail(r, "%s longer than %d bytes",
                  r->phase == HTTP_P_TRAILERS ? "trailers" : "headers", HTTP_HEAD_MAX);
        return n;
    }
    if (use > line_room) {
        if (r->phase == HTTP_P_CHUNK_END)
            http_fail(r, "malformed chunk: no CRLF after its data");
        else
            http_fail(r, "%s longer than %d bytes", http_line_name(r), HTTP_LINE_MAX);
        return n;
    }
    if (counted)
        r->head_bytes += use;
    memcpy(r->line + r->line_len, p, use);
    r->line_len += use;
    if (!nl)
        return use;
    r->line_len--; /* drop '\n' */
    if (r->line_len > 0 && r->line[r->line_len - 1] == '\r')
        r->line_len--;
    r->line[r->line_len] = '\0';
    if (memchr(r->line, '\0', r->line_len))
        http_fail(r, "NUL byte in a %s", http_line_name(r));
    else if (memchr(r->line, '\r', r->line_len))
        http_fail(r, "bare CR in a %s", http_line_name(r));
    else
        *complete = 1;
    return use;
}

/* "HTTP/1.1 200 OK" */
static int http_status_line(struct http_resp *r)
{
    const char *s = r->line;
    if (strncmp(s, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)s[7]) || s[8] != ' ' ||
        !isdigit((unsigned char)s[9]) || !isdigit((unsigned char)s[10]) ||
        !isdigit((unsigned char)s[11]) || (s[12] != ' ' && s[12] != '\0'))
        return http_fail(r, "malformed status line");
    r->minor = s[7] - '0';
    r->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    if (r->status < 100)
        return http_fail(r, "malformed status line");
    if (r->status == 101) /* we never ask to upgrade: what follows is not HTTP/1.1 */
        return http_fail(r, "unexpected 101 Switching Protocols");
    if (r->minor == 0)
        r->close = 1; /* HTTP/1.0 closes unless it says keep-alive */
    r->phase = HTTP_P_HEADERS;
    return HTTP_MORE;
}

/* Does the comma-separated header value v hold token tok (any case)? */
static int http_has_token(const char *v, const char *tok)
{
    size_t tl = strlen(tok);
    while (*v) {
        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        size_t len = strcspn(v, ",");
        size_t trimmed = len;
        while (trimmed > 0 && (v[trimmed - 1] == ' ' || v[trimmed - 1] == '\t'))
            trimmed--;
        if (trimmed == tl && strncasecmp(v, tok, tl) == 0)
            return 1;
        v += len;
    }
    return 0;
}

static int http_content_length(struct http_resp *r, const char *v)
{
    int64_t n = 0;
    int digits = 0;
    for (; isdigit((unsigned char)*v); v++, digits++) {
        if (digits >= 18)
            return http_fail(r, "Content-Length too large");
        n = n * 10 + (*v - '0');
    }
    while (*v == ' ' || *v == '\t')
        v++;
    if (digits == 0 || *v)
        return http_fail(r, "malformed Content-Length");
    if (r->content_length >= 0 && r->content_length != n)
        return http_fail(r, "conflicting Content-Length headers");
    r->content_length = n;
    return HTTP_MORE;
}

/* RFC 9112 6.1: we decode one coding, chunked, so the value must be exactly
 * that ("gzip, chunked" would hand compressed bytes up as the body), given
 * once, and never in an HTTP/1.0 response (1.0 has no chunked coding). */
static int http_transfer_encoding(struct http_resp *r, char *v)
{
    size_t len = strlen(v);
    while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        v[--len] = '\0';
    if (r->chunked)
        return http_fail(r, "Transfer-Encoding given twice");
    if (strcasecmp(v, "chunked") != 0)
        return http_fail(r, "unsupported Transfer-Encoding '%.40s'", v);
    if (r->minor == 0)
        return http_fail(r, "Transfer-Encoding in an HTTP/1.0 response");
    r->chunked = 1;
    return HTTP_MORE;
}

/* "Name: value" — we act on three headers and skip the rest. */
static int http_header_line(struct http_resp *r)
{
    char *colon = strchr(r->line, ':');
    if (!colon || colon == r->line)
        return http_fail(r, "malformed header line");
    for (char *c = r->line; c < colon; c++)
        if (*c == ' ' || *c == '\t')
            return http_fail(r, "malformed header line");
    *colon = '\0';
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    if (strcasecmp(r->line, "Content-Length") == 0)
        return http_content_length(r, v);
    if (strcasecmp(r->line, "Transfer-Encoding") == 0)
        return http_transfer_encoding(r, v);
    if (strcasecmp(r->line, "Connection") == 0) {
        if (http_has_token(v, "close"))
            r->close = 1;
        else if (http_has_token(v, "keep-alive") && r->minor == 0)
            r->close = 0;
    }
    return HTTP_MORE;
}

/* The empty line ended the headers: decide how the body is framed. */
static int http_headers_done(struct http_resp *r)
{
    if (r->status < 200) { /* 1xx: an interim response; the real one follows */
        int close = r->close, interim = r->interim + 1;
        size_t received = r->received; /* bytes did arrive: EOF now is not "before the response" */
        if (interim > HTTP_INTERIM_MAX)
            return http_fail(r, "more than %d interim (1xx) responses", HTTP_INTERIM_MAX);
        http_resp_init(r);
        r->close = close;
        r->interim = interim;
        r->received = received;
        return HTTP_MORE;
    }
    if (r->chunked && r->content_length >= 0) /* RFC 9112 6.3: a smuggling attempt, or a broken server */
        return http_fail(r, "both Transfer-Encoding and Content-Length");
    if (r->status == 204 || r->status == 304) {
        /* No body, whatever the headers say. A 204 that announces one (or a
         * 304 that is chunked) may send it anyway: do not reuse after it. */
        if (r->chunked || (r->status == 204 && r->content_length > 0))
            r->close = 1;
        r->phase = HTTP_P_DONE;
        return HTTP_DONE;
    }
    if (r->chunked) {
        r->phase = HTTP_P_CHUNK_SIZE;
        return HTTP_MORE;
    }
    if (r->content_length >= 0) {
        r->phase = r->content_length == 0 ? HTTP_P_DONE : HTTP_P_BODY_LEN;
        return r->phase == HTTP_P_DONE ? HTTP_DONE : HTTP_MORE;
    }
    r->close = 1;
    r->phase = HTTP_P_BODY_CLOSE;
    return HTTP_MORE;
}

/* "1a2;ext=1" — hex size, optional extensions. */
static int http_chunk_size_line(struct http_resp *r)
{
    const char *s = r->line;
    uint64_t n = 0;
    int digits = 0;
    for (; isxdigit((unsigned char)*s); s++, digits++) {
        if (digits >= 15)
            return http_fail(r, "chunk size too large");
        int d = isdigit((unsigned char)*s) ? *s - '0' : (tolower((unsigned char)*s) - 'a' + 10);
        n = n * 16 + (uint64_t)d;
    }
    while (*s == ' ' || *s == '\t')
        s++;
    if (digits == 0 || (*s && *s != ';'))
        return http_fail(r, "malformed chunk size line");
    r->chunk_left = n;
    if (n == 0)
        r->head_bytes = 0; /* the trailers get a budget of their own */
    r->phase = n == 0 ? HTTP_P_TRAILERS : HTTP_P_CHUNK_DATA;
    return HTTP_MORE;
}

/* One whole line in r->line: act on it according to the phase. */
static int http_line(struct http_resp *r)
{
    switch (r->phase) {
    case HTTP_P_STATUS:
        return http_status_line(r);
    case HTTP_P_HEADERS:
        return r->line_len == 0 ? http_headers_done(r) : http_header_line(r);
    case HTTP_P_CHUNK_SIZE:
        return http_chunk_size_line(r);
    case HTTP_P_CHUNK_END:
        if (r->line_len != 0)
            return http_fail(r, "malformed chunk: no CRLF after its data");
        r->phase = HTTP_P_CHUNK_SIZE;
        return HTTP_MORE;
    case HTTP_P_TRAILERS:
        if (r->line_len == 0) {
            r->phase = HTTP_P_DONE;
            return HTTP_DONE;
        }
        if (++r->trailers > HTTP_TRAILERS_MAX)
            return http_fail(r, "more than %d trailer lines", HTTP_TRAILERS_MAX);
        if (!strchr(r->line, ':') || r->line[0] == ':')
            return http_fail(r, "malformed trailer line");
        return HTTP_MORE; /* a trailer field: ignored */
    default:
        return http_fail(r, "parser in a bad state");
    }
}

/* Hand up to `want` body bytes to the callback; returns how many it took,
 * or sets the error phase. */
static size_t http_body_bytes(struct http_resp *r, const char *p, size_t n, uint64_t want,
                              http_body_fn cb, void *ctx)
{
    size_t use = n < want ? n : (size_t)want;
    if (cb && cb(ctx, r->body, (const unsigned char *)p, use) != 0) {
        http_fail(r, "body rejected");
        return n;
    }
    r->body += use;
    return use;
}

int http_resp_feed(struct http_resp *r, const void *data, size_t n, http_body_fn cb, void *ctx)
{
    const char *p = data;
    if (r->phase == HTTP_P_ERROR)
        return HTTP_ERR;
    if (r->phase == HTTP_P_DONE) {
        r->extra |= n > 0;
        return HTTP_DONE;
    }
    if (r->received < HTTP_HEAD_MAX)
        r->received += n < HTTP_HEAD_MAX ? n : HTTP_HEAD_MAX;
    while (n > 0) {
        size_t used;
        int complete = 0;
        switch (r->phase) {
        case HTTP_P_BODY_LEN:
            used = http_body_bytes(r, p, n, (uint64_t)r->content_length - r->body, cb, ctx);
            if (r->phase != HTTP_P_ERROR && r->body == (uint64_t)r->content_length)
                r->phase = HTTP_P_DONE;
            break;
        case HTTP_P_BODY_CLOSE:
            used = http_body_bytes(r, p, n, UINT64_MAX, cb, ctx);
            break;
        case HTTP_P_CHUNK_DATA:
            used = http_body_bytes(r, p, n, r->chunk_left, cb, ctx);
            r->chunk_left -= r->phase == HTTP_P_ERROR ? 0 : used;
            if (r->phase != HTTP_P_ERROR && r->chunk_left == 0)
                r->phase = HTTP_P_CHUNK_END;
            break;
        case HTTP_P_DONE:
            r->extra = 1; /* more bytes than the response announced */
            return HTTP_DONE;
        case HTTP_P_ERROR:
            return HTTP_ERR;
        default: /* a line-based phase */
            used = http_take_line(r, p, n, &complete);
            if (r->phase == HTTP_P_ERROR)
                return HTTP_ERR;
            if (complete) {
                int st = http_line(r);
                r->line_len = 0;
                if (st == HTTP_ERR)
                    return HTTP_ERR;
            }
            break;
        }
        p += used;
        n -= used;
    }
    if (r->phase == HTTP_P_ERROR)
        return HTTP_ERR;
    return r->phase == HTTP_P_DONE ? HTTP_DONE : HTTP_MORE;
}

int http_resp_eof(struct http_resp *r)
{
    switch (r->phase) {
    case HTTP_P_DONE:
        return HTTP_DONE;
    case HTTP_P_ERROR:
        return HTTP_ERR;
    case HTTP_P_BODY_CLOSE:
        r->phase = HTTP_P_DONE;
        return HTTP_DONE;
    case HTTP_P_STATUS:
        if (r->received == 0)
            return http_fail(r, "connection closed before the response");
        if (r->interim > 0 && r->line_len == 0)
            return http_fail(r, "connection closed after an interim (1xx) response");
        return http_fail(r, "connection closed in the status line");
    case HTTP_P_HEADERS:
        return http_fail(r, "connection closed in the headers");
    case HTTP_P_BODY_LEN:
        return http_fail(r, "truncated body: %llu of %lld bytes", (unsigned long long)r->body,
                         (long long)r->content_length);
    default:
        return http_fail(r, "truncated chunked body after %llu bytes",
                         (unsigned long long)r->body);
    }
}

int http_resp_reusable(const struct http_resp *r)
{
    return r->phase == HTTP_P_DONE && !r->close && !r->extra;
}
