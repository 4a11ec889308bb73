/*
 * The message a pub, request or reply sends, built per message from templates: the subject, the
 * -H headers and the body may all carry placeholders (cli_tmpl.h), expanded for each message with
 * its own counter. The subject and body buffers are reused across messages.
 */
#ifndef CLI_MSG_H
#define CLI_MSG_H

#include "cli_tmpl.h"
#include "np.h"

#include <stdbool.h>
#include <stddef.h>

#define CLI_MSG_MAX_HEADERS 64

struct cli_msg {
    const char *subject;                      /* template */
    struct np_str body;                       /* template */
    const char *headers[CLI_MSG_MAX_HEADERS]; /* "Key:Value" templates, as given to -H */
    size_t nheaders;
    bool literal; /* --no-templates: send everything as given */

    /* The last rendering: valid until the next cli_msg_render() or cli_msg_release(). */
    const char *out_subject;
    struct np_str out_headers; /* len 0 when there are no headers */
    struct np_str out_data;

    struct np_buf subj_buf, data_buf, field_buf; /* private */
    struct np_hdr_builder hb;                    /* private */
};

/*
 * Checks one -H value and adds it: "Key:Value" (blanks around either are trimmed) with a non-empty
 * key free of blanks. Returns 0 or -EINVAL (bad shape, or more than CLI_MSG_MAX_HEADERS).
 */
int cli_msg_add_header(struct cli_msg *m, const char *kv);
/*
 * Expands the templates for one message into out_*. Returns 0, -ENOMEM, NP_EHEADER (a header
 * that expanded to CR or LF, or lost its colon), or the random source's error.
 */
int cli_msg_render(struct cli_msg *m, const struct cli_tmpl_ctx *ctx);
void cli_msg_release(struct cli_msg *m);

#endif
