#include "h5util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void h5_quiet_begin(H5Quiet *q) {
    q->func = NULL;
    q->data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void h5_quiet_end(const H5Quiet *q) { H5Eset_auto2(H5E_DEFAULT, q->func, q->data); }

typedef struct ReasonCtx {
    char *buf;
    size_t cap;
    int found;
} ReasonCtx;

static herr_t first_entry(unsigned n, const H5E_error2_t *e, void *data) {
    ReasonCtx *ctx = data;
    (void)n;
    if (ctx->found) return 0;
    if (e->desc && e->desc[0]) {
        snprintf(ctx->buf, ctx->cap, "%s", e->desc);
        ctx->found = 1;
    } else {
        char minor[256];
        if (H5Eget_msg(e->min_num, NULL, minor, sizeof minor) > 0) {
            snprintf(ctx->buf, ctx->cap, "%s", minor);
            ctx->found = 1;
        }
    }
    return 0;
}

const char *h5_reason(char *buf, size_t cap) {
    char raw[1024];
    ReasonCtx ctx = {raw, sizeof raw, 0};
    raw[0] = '\0';
    /* Upward = from the function that detected the error out to the API call. */
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_entry, &ctx);
    if (!ctx.found) {
        snprintf(buf, cap, "unknown HDF5 error");
        return buf;
    }
    /* System-call failures read "file write failed: time = …, filename = …, errno = 28, error
     * message = 'No space left on device', buf = 0x…, …": keep the summary and the message. */
    const char *msg = strstr(raw, "error message = '");
    const char *colon = strchr(raw, ':');
    if (msg && colon && colon < msg) {
        msg += strlen("error message = '");
        const char *end = strchr(msg, '\'');
        int mlen = end ? (int)(end - msg) : (int)strlen(msg);
        snprintf(buf, cap, "%.*s: %.*s", (int)(colon - raw), raw, mlen, msg);
    } else {
        snprintf(buf, cap, "%s", raw);
    }
    for (char *p = buf; *p; p++)
        if (*p == '\n') *p = ' ';
    return buf;
}

int h5_path_exists(hid_t loc, const char *path) {
    if (strcmp(path, "/") == 0 || path[0] == '\0') return 1;
    size_t len = strlen(path);
    char *buf = malloc(len + 1);
    if (!buf) return 0;
    memcpy(buf, path, len + 1);
    int ok = 1;
    for (size_t i = 1; i <= len && ok; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (H5Lexists(loc, buf, H5P_DEFAULT) <= 0) ok = 0;
        buf[i] = saved;
    }
    free(buf);
    return ok;
}

hid_t h5_utf8_type(void) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

hid_t h5_fapl(void) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    /* H5Pset_file_locking exists from 1.10.7 and from 1.12.1. */
#if (H5_VERSION_GE(1, 10, 7) && !H5_VERSION_GE(1, 12, 0)) || H5_VERSION_GE(1, 12, 1)
    H5Pset_file_locking(fapl, 1, 1);
#endif
    return fapl;
}
