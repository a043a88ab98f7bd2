/* datafiles.c — the data files a spec names exist (spec.h: spec_check_data_files), or a spec
 * error says where the name is written, where it was looked for, the nearest file there, and the
 * script that prepares it when one does. */
#include <dirent.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spec.h"
#include "strbuf.h"

/* The entry of dir nearest to name (edit distance ≤ 3, or name with another extension), or 0. */
static int nearest_sibling(const char *dir, const char *name, char *out, size_t cap) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int best = 4;
    size_t stem = strcspn(name, ".");
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        int dist = cfg_edit_distance(name, e->d_name);
        if (stem > 0 && strncmp(e->d_name, name, stem) == 0 && (e->d_name[stem] == '.' || !e->d_name[stem]))
            dist = dist < 2 ? dist : 2;   /* the same stem: images.idx for images.idx.gz */
        if (dist < best) {
            best = dist;
            snprintf(out, cap, "%s", e->d_name);
        }
    }
    closedir(d);
    return best <= 3;
}

/* A path under ROOT/datasets/NAME/ whose folder ROOT/datasets holds prepare_NAME.sh: its path. */
static int prepare_script(const char *path, char *out, size_t cap) {
    const char *at = strstr(path, "/datasets/");
    if (!at) return 0;
    const char *name = at + strlen("/datasets/");
    size_t n = strcspn(name, "/");
    if (n == 0 || !name[n]) return 0;
    char script[PATH_MAX + 64];
    snprintf(script, sizeof script, "%.*s/datasets/prepare_%.*s.sh", (int)(at - path), path, (int)n, name);
    char real[PATH_MAX];
    if (!realpath(script, real)) return 0;
    snprintf(out, cap, "%s", real);
    return 1;
}

int spec_check_data_files(const Spec *s, CfgDiags *diags) {
    static const char *const KEYS[] = {"data.path", "data.labels", "data.test_path", "data.test_labels"};
    int before = diags->count;
    for (size_t k = 0; k < sizeof KEYS / sizeof KEYS[0]; k++) {
        const CfgNode *node = cfg_get(s->tree, KEYS[k]);
        if (!node || node->kind != CFG_SCALAR || !node->value || !node->value[0] || cfg_text_is_null(node->value))
            continue;
        const char *path = node->value;   /* absolute or resolved by now (spec.c) */
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0) continue;
        char dir[PATH_MAX], base[PATH_MAX], near[256], script[PATH_MAX + 64];
        snprintf(dir, sizeof dir, "%s", path);
        snprintf(base, sizeof base, "%s", path);
        const char *folder = dirname(dir), *name = basename(base);
        StrBuf msg = {0};
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) strbuf_printf(&msg, "%s is a folder, not a data file", path);
        else if (stat(path, &st) == 0) strbuf_printf(&msg, "cannot read %s", path);
        else strbuf_printf(&msg, "no file %s", path);
        const char *from = node->line > 0 && node->file ? node->file : s->source_path;
        if (node->line > 0) strbuf_printf(&msg, " (a relative path is taken from the folder of %s)", from);
        if (stat(folder, &st) != 0) strbuf_printf(&msg, "; the folder %s does not exist", folder);
        else if (nearest_sibling(folder, name, near, sizeof near)) strbuf_printf(&msg, "; did you mean %s?", near);
        if (prepare_script(path, script, sizeof script))
            strbuf_printf(&msg, "; this data is made by bash %s (run it first)", script);
        cfg_diag_at(diags, node, KEYS[k], "%s", msg.s);
        strbuf_free(&msg);
    }
    return diags->count > before ? -1 : 0;
}
