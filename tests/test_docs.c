/* test_docs.c — numbers and lists the docs state, checked against what the program does, so
 * that they cannot drift: the step at which configs/exploding_rnn.yaml diverges (README's table,
 * docs/recurrent.md, docs/training.md), and the README spec's lists of data sources, scalings,
 * model types and losses against the schema's choices. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runcheck.h"
#include "spec/schema.h"
#include "testutil.h"

static char *tmp;

static char *doc(const char *name) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", source_dir(), name);
    return rc_slurp_text(path);
}

static int doc_has(const char *name, const char *needle) {
    char *text = doc(name);
    int found = strstr(text, needle) != NULL;
    if (!found) fprintf(stderr, "\n    %s does not say \"%s\"\n", name, needle);
    free(text);
    return found;
}

/* The unclipped exploding_rnn diverges at the step every doc names. */
static void test_exploding_step(void) {
    char exe[PATH_MAX];
    CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(exprun_bin(), exe));
    /* OpenBLAS on 1 and on 2 threads (CTest sets 1): a gradient that grows a thousandfold per
     * step magnifies the last bit, so the step is the same only if every sum is (the orthogonal
     * init's QR once followed OpenBLAS's thread count: 22 against 23) */
    int steps[2];
    for (int k = 0; k < 2; k++) {
        CU_ASSERT_EQUAL_FATAL(rc_sh(tmp, "rm -rf explode; OPENBLAS_NUM_THREADS=%d %s %s/configs/exploding_rnn.yaml --out explode -q 2> explode.txt",
                                    k + 1, exe, source_dir()),
                              4);
        char *err = rc_slurp_text(rc_in_dir(tmp, "explode.txt"));
        const char *at = strstr(err, "diverged at step ");
        CU_ASSERT_PTR_NOT_NULL_FATAL(at);
        steps[k] = atoi(at + strlen("diverged at step "));
        free(err);
    }
    CU_ASSERT_EQUAL(steps[0], steps[1]);
    int step = steps[1];
    char want[128];
    snprintf(want, sizeof want, "unclipped diverges at step %d;", step);
    CU_ASSERT(doc_has("README.md", want));
    snprintf(want, sizeof want, "\"diverged at step %d (epoch 1): the gradient is not finite in rnn0/W\"", step);
    CU_ASSERT(doc_has("docs/recurrent.md", want));
    snprintf(want, sizeof want, "exprun: diverged at step %d (epoch 1): the gradient is not finite in rnn0/W\n4\n", step);
    CU_ASSERT(doc_has("docs/training.md", want));
    snprintf(want, sizeof want, "\n%d,1,", step - 1);   /* the last row of steps.csv shown */
    CU_ASSERT(doc_has("docs/training.md", want));
}

/* The words of list (separated by any of seps) sorted and joined by '|' into out: a set to compare. */
static void as_sorted_set(char *list, const char *seps, char *out, size_t cap) {
    char *items[32];
    int n = 0;
    for (char *tok = strtok(list, seps); tok && n < 32; tok = strtok(NULL, seps)) items[n++] = tok;
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(items[j - 1], items[j]) > 0; j--) {
            char *t = items[j];
            items[j] = items[j - 1];
            items[j - 1] = t;
        }
    out[0] = '\0';
    for (int i = 0; i < n; i++) snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? "|" : "", items[i]);
}

/* The README's "key: value  # a | b | c (…)" comment for a key, as a sorted set; 0 if not found. */
static int readme_choices(const char *line_start, char *out, size_t cap) {
    char *text = doc("README.md");
    const char *at = strstr(text, line_start);
    if (at && *at == '\n') at++;
    const char *hash = at ? strchr(at, '#') : NULL, *end = at ? strchr(at, '\n') : NULL;
    int ok = hash && end && hash < end;
    if (ok) {
        char list[512];
        snprintf(list, sizeof list, "%.*s", (int)(end - hash - 1), hash + 1);
        char *paren = strchr(list, '(');
        if (paren) *paren = '\0';
        as_sorted_set(list, "| ", out, cap);
    }
    free(text);
    return ok;
}

static void schema_choices(const char *key, char *out, size_t cap) {
    out[0] = '\0';
    for (int i = 0; i < SPEC_SCHEMA.count; i++)
        if (strcmp(SPEC_SCHEMA.keys[i].path, key) == 0) {
            char list[512];
            snprintf(list, sizeof list, "%s", SPEC_SCHEMA.keys[i].choices);
            as_sorted_set(list, "|", out, cap);
        }
}

static void test_readme_lists_match_the_schema(void) {
    static const char *const LINES[][2] = {{"  source: idx ", "data.source"},
                                           {"  scale: unit ", "data.scale"},
                                           {"  type: autoencoder ", "model.type"},
                                           {"\nloss: cross_entropy ", "loss"}};
    for (size_t k = 0; k < sizeof LINES / sizeof LINES[0]; k++) {
        char said[512] = "", want[512];
        CU_ASSERT(readme_choices(LINES[k][0], said, sizeof said));
        schema_choices(LINES[k][1], want, sizeof want);
        if (strcmp(said, want) != 0) fprintf(stderr, "\n    README lists %s as %s; the schema: %s\n", LINES[k][1], said, want);
        CU_ASSERT_STRING_EQUAL(said, want);
    }
}

int main(void) {
    tmp = make_temp_dir("docs");
    TestCase cases[] = {{"exploding_rnn diverges at the step the docs name", test_exploding_step},
                        {"the README spec's lists are the schema's choices", test_readme_lists_match_the_schema},
                        {NULL, NULL}};
    return run_tests_in("docs", cases, tmp);
}
