/*
 * Rendering one outgoing message from its templates. Header fields are split at their first ':'
 * after expansion, so a placeholder may produce the value but never a second field: the header
 * builder refuses CR and LF.
 */
#include "cli_msg.h"

#include <errno.h>
#include <string.h>

static struct np_str
trim(const char *p, size_t n)
{
    while (n && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return (struct np_str){p, n};
}

static bool
split_field(const char *kv, size_t len, struct np_str *key, struct np_str *value)
{
    const char *colon = memchr(kv, ':', len);
    if (!colon) return false;
    *key = trim(kv, (size_t)(colon - kv));
    *value = trim(colon + 1, len - (size_t)(colon - kv) - 1);
    if (key->len == 0) return false;
    for (size_t i = 0; i < key->len; i++) {
        if (key->ptr[i] == ' ' || key->ptr[i] == '\t') return false;
    }
    return true;
}

int
cli_msg_add_header(struct cli_msg *m, const char *kv)
{
    struct np_str key, value;
    if (m->nheaders == CLI_MSG_MAX_HEADERS || !split_field(kv, strlen(kv), &key, &value))
        return -EINVAL;
    m->headers[m->nheaders++] = kv;
    return 0;
}

/* Expands s into buf, or points at s itself when there is nothing to expand. */
static int
expand(const struct cli_msg *m, const struct cli_tmpl_ctx *ctx, struct np_str s, struct np_buf *buf,
       struct np_str *out)
{
    if (m->literal || !cli_tmpl_maybe(s.ptr, s.len)) {
        *out = s;
        return 0;
    }
    int rc = cli_tmpl_expand(ctx, s.ptr, s.len, buf);
    if (rc == 0) *out = (struct np_str){buf->ptr, buf->len};
    return rc;
}

static int
render_headers(struct cli_msg *m, const struct cli_tmpl_ctx *ctx)
{
    m->out_headers = (struct np_str){NULL, 0};
    if (m->nheaders == 0) return 0;
    np_hdr_builder_release(&m->hb);
    np_hdr_builder_init(&m->hb, 0, NULL);
    for (size_t i = 0; i < m->nheaders; i++) {
        struct np_str field, key, value;
        int rc = expand(m, ctx, (struct np_str){m->headers[i], strlen(m->headers[i])},
                        &m->field_buf, &field);
        if (rc != 0) return rc;
        if (!split_field(field.ptr, field.len, &key, &value)) return NP_EHEADER;
        np_hdr_builder_add(&m->hb, key, value);
    }
    return np_hdr_builder_finish(&m->hb, &m->out_headers);
}

int
cli_msg_render(struct cli_msg *m, const struct cli_tmpl_ctx *ctx)
{
    struct np_str subj;
    int rc = expand(m, ctx, (struct np_str){m->subject, strlen(m->subject)}, &m->subj_buf, &subj);
    if (rc != 0) return rc;
    /* the subject must be NUL-terminated for the client API; an unexpanded one already is */
    m->out_subject = subj.ptr;
    rc = expand(m, ctx, m->body, &m->data_buf, &m->out_data);
    if (rc != 0) return rc;
    return render_headers(m, ctx);
}

void
cli_msg_release(struct cli_msg *m)
{
    np_buf_release(&m->subj_buf);
    np_buf_release(&m->data_buf);
    np_buf_release(&m->field_buf);
    np_hdr_builder_release(&m->hb);
}
