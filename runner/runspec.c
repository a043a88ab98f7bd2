/* runspec.c — a run's resolved spec (runspec.h). */
#include "runspec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "rundir.h"
#include "spec/cfg.h"

int run_spec_load(const char *run_dir, Spec *spec) {
    char path[4200];
    ExError err;
    snprintf(path, sizeof path, "%s/resolved.yaml", run_dir);
    char *resolved = read_file(path, NULL, &err);
    if (!resolved) {
        fprintf(stderr, "exprun: %s is not a run directory: %s\n", run_dir, err.msg);
        return -1;
    }
    int rc = run_spec_parse(resolved, path, spec);
    free(resolved);
    return rc;
}

int run_spec_parse(const char *text, const char *name, Spec *spec) {
    CfgDiags diags = {0};
    CfgNode *tree = cfg_parse_string(text, strlen(text), name, &diags);
    memset(spec, 0, sizeof *spec);
    if (!tree || spec_from_tree(tree, name, spec, &diags) != 0) {
        cfg_diags_print(&diags, stderr);
        fprintf(stderr, "exprun: %s no longer validates\n", name);
        cfg_diags_free(&diags);
        if (tree) spec_free(spec);
        return -1;
    }
    cfg_diags_free(&diags);
    return 0;
}

void run_output_path(char *out, size_t cap, const char *run_dir, const char *prefix, const char *input) {
    const char *base = strrchr(input, '/');
    base = base ? base + 1 : input;
    size_t len = strcspn(base, ".");
    snprintf(out, cap, "%s/%s-%.*s.h5", run_dir, prefix, (int)(len ? len : strlen(base)), base);
}
