/* runkeys.c — overrides as key = value pairs, and the keys that tell runs apart (runkeys.h). */
#include "runkeys.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/cfg.h"

static char *copy_span(const char *s, size_t len) {
    char *out = malloc(len + 1);
    memcpy(out, s, len);
    out[len] = '\0';
    return out;
}

void run_keys_add(RunKeys *k, const char *override) {
    const char *eq = strchr(override, '=');
    size_t key_len = eq ? (size_t)(eq - override) : strlen(override);
    const char *value = eq ? eq + 1 : "";
    for (int i = 0; i < k->n; i++)
        if (strlen(k->keys[i]) == key_len && strncmp(k->keys[i], override, key_len) == 0) {
            free(k->values[i]);
            k->values[i] = strdup(value);
            return;
        }
    k->keys = realloc(k->keys, (size_t)(k->n + 1) * sizeof *k->keys);
    k->values = realloc(k->values, (size_t)(k->n + 1) * sizeof *k->values);
    k->keys[k->n] = copy_span(override, key_len);
    k->values[k->n] = strdup(value);
    k->n++;
}

void run_keys_parse(RunKeys *k, const char *text) {
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ')) len--;
        if (len > 0) {
            char *one = copy_span(line, len);
            run_keys_add(k, one);
            free(one);
        }
        line = end ? end + 1 : NULL;
    }
}

const char *run_keys_get(const RunKeys *k, const char *key) {
    for (int i = 0; i < k->n; i++)
        if (strcmp(k->keys[i], key) == 0) return k->values[i];
    return NULL;
}

void run_keys_free(RunKeys *k) {
    for (int i = 0; i < k->n; i++) {
        free(k->keys[i]);
        free(k->values[i]);
    }
    free(k->keys);
    free(k->values);
    memset(k, 0, sizeof *k);
}

int text_is_number(const char *text, double *value) {
    if (!text || !*text || isspace((unsigned char)*text)) return 0;
    char *end = NULL;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(v)) return 0;
    if (value) *value = v;
    return 1;
}

int key_columns(const RunKeys *runs, int n, KeyColumn **cols) {
    int count = 0;
    KeyColumn *c = NULL;
    for (int r = 0; r < n; r++)
        for (int i = 0; i < runs[r].n; i++) {
            int seen = 0;
            for (int j = 0; j < count && !seen; j++) seen = strcmp(c[j].key, runs[r].keys[i]) == 0;
            if (seen) continue;
            c = realloc(c, (size_t)(count + 1) * sizeof *c);
            c[count++] = (KeyColumn){.key = strdup(runs[r].keys[i])};
        }
    for (int j = 0; j < count; j++) {
        const char *first = run_keys_get(&runs[0], c[j].key);
        c[j].numeric = 1;
        for (int r = 0; r < n; r++) {
            const char *v = run_keys_get(&runs[r], c[j].key);
            if (!v != !first || (v && strcmp(v, first) != 0)) c[j].varies = 1;
            if (v && !text_is_number(v, NULL)) c[j].numeric = 0;
        }
    }
    *cols = c;
    return count;
}

void key_columns_free(KeyColumn *cols, int n) {
    for (int j = 0; j < n; j++) free(cols[j].key);
    free(cols);
}

void run_keys_complete(RunKeys *runs, int n, char *const *dirs) {
    KeyColumn *cols = NULL;
    int nk = key_columns(runs, n, &cols);
    for (int r = 0; r < n; r++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/resolved.yaml", dirs[r]);
        CfgDiags diags = {0};
        CfgNode *tree = cfg_parse_file(path, &diags);
        cfg_diags_free(&diags);
        for (int k = 0; tree && k < nk; k++) {
            if (run_keys_get(&runs[r], cols[k].key)) continue;    /* as the user wrote it */
            const CfgNode *node = cfg_get(tree, cols[k].key);
            if (!node) continue;
            char *value = cfg_emit_flow_string(node);
            size_t len = strlen(cols[k].key) + strlen(value) + 2;
            char *override = malloc(len);
            snprintf(override, len, "%s=%s", cols[k].key, value);
            run_keys_add(&runs[r], override);
            free(override);
            free(value);
        }
        cfg_free(tree);
    }
    key_columns_free(cols, nk);
}
