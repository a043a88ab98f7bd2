/* test_batches.c — the BatchSource (runner/batches.h): one interface over the rows of a dataset
 * and the tracks of a token stream. Each kind: what an epoch covers, what the batches hold,
 * evaluation in order, and the position a checkpoint saves, restored and checked. */
#include <stdlib.h>
#include <string.h>

#include "batches.h"
#include "testutil.h"

/* n rows, x of row i = (i, i + 0.5) at each of T = 2 steps, label i % 3. */
static Dataset numbered_rows(int n) {
    Dataset ds = {0};
    snprintf(ds.source, sizeof ds.source, "numbered");
    ds.n = n;
    ds.T = 2;
    ds.d = 2;
    ds.x = calloc((size_t)n * 4 + 1, sizeof *ds.x);
    ds.labels = calloc((size_t)n + 1, sizeof *ds.labels);
    ds.num_classes = 3;
    for (int i = 0; i < n; i++) {
        for (int t = 0; t < 2; t++) {
            ds.x[i * 4 + t * 2] = (float)i;
            ds.x[i * 4 + t * 2 + 1] = (float)i + 0.5f;
        }
        ds.labels[i] = i % 3;
    }
    return ds;
}

/* Tokens 0, 1, 2, …, len − 1. */
static TokenStream counting_stream(size_t len) {
    TokenStream s = {0};
    s.len = len;
    s.vocab = (int)len;
    s.tokens = calloc(len + 1, sizeof *s.tokens);
    for (size_t i = 0; i < len; i++) s.tokens[i] = (int32_t)i;
    return s;
}

/* A shuffled epoch of 10 rows in batches of 4: 3 batches (4, 4, 2) that hold every row once, each
 * row's own features and label; the next epoch another order; drop_last leaves the short one out. */
static void test_dataset_epoch(void) {
    Dataset ds = numbered_rows(10);
    BatchSource s;
    ExError err;
    CU_ASSERT_EQUAL_FATAL(batches_for_training(&s, &ds, NULL, 4, 0, 1, 0, rng_stream(7, "shuffle"), "numbered", &err), 0);
    CU_ASSERT_EQUAL(batches_per_epoch(&s), 3);
    CU_ASSERT_EQUAL(batches_steps_per_row(&s), 2);
    int order[2][10];
    for (int e = 0; e < 2; e++) {
        int seen[10] = {0}, k = 0, sizes[3] = {0}, nb = 0;
        Batch b;
        batches_begin_epoch(&s);
        for (int count; (count = batches_next(&s, &b)) > 0; nb++) {
            CU_ASSERT_EQUAL(b.B, count);
            CU_ASSERT_EQUAL(b.T, 2);
            CU_ASSERT_EQUAL(b.d, 2);
            CU_ASSERT_FALSE(b.carry_state);
            if (nb < 3) sizes[nb] = count;
            for (int r = 0; r < count; r++) {
                int row = (int)b.x[r * 4];
                CU_ASSERT_FATAL(row >= 0 && row < 10);
                seen[row]++;
                CU_ASSERT_EQUAL(b.x[r * 4 + 3], row + 0.5f);
                CU_ASSERT_EQUAL(b.labels[r], row % 3);
                if (k < 10) order[e][k++] = row;
            }
        }
        CU_ASSERT_EQUAL(nb, 3);
        CU_ASSERT(sizes[0] == 4 && sizes[1] == 4 && sizes[2] == 2);
        for (int i = 0; i < 10; i++) CU_ASSERT_EQUAL(seen[i], 1);
    }
    CU_ASSERT_NOT_EQUAL(memcmp(order[0], order[1], sizeof order[0]), 0);
    batches_free(&s);

    CU_ASSERT_EQUAL_FATAL(batches_for_training(&s, &ds, NULL, 4, 0, 1, 1, rng_stream(7, "shuffle"), "numbered", &err), 0);
    CU_ASSERT_EQUAL(batches_per_epoch(&s), 2);
    batches_free(&s);
    dataset_free(&ds);
}

/* Too little data: an error that names the data; no rows at all: its own message. */
static void test_too_little(void) {
    Dataset ds = numbered_rows(3), none = numbered_rows(0);
    BatchSource s;
    ExError err;
    CU_ASSERT_EQUAL(batches_for_training(&s, &ds, NULL, 4, 0, 1, 1, rng_stream(1, "shuffle"), "three.csv", &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "three.csv: too little data for one batch of 4"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "drop_last"));
    batches_free(&s);
    CU_ASSERT_EQUAL(batches_for_training(&s, &none, NULL, 4, 0, 1, 0, rng_stream(1, "shuffle"), "empty.csv", &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "empty.csv: no training examples"));
    batches_free(&s);
    TokenStream t = counting_stream(20);
    CU_ASSERT_EQUAL(batches_for_training(&s, NULL, &t, 4, 8, 1, 0, rng_stream(1, "shuffle"), "short.txt", &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "short.txt: too little data for one batch of 4"));
    batches_free(&s);
    free(t.tokens);
    dataset_free(&ds);
    dataset_free(&none);
}

/* Evaluation: every row once, in order, the last batch short; an empty split has no batches. */
static void test_dataset_evaluation(void) {
    Dataset ds = numbered_rows(7), none = numbered_rows(0);
    BatchSource s;
    batches_for_evaluation(&s, &ds, NULL, 3, 0);
    CU_ASSERT_EQUAL(batches_per_epoch(&s), 3);
    for (int pass = 0; pass < 2; pass++) {
        Batch b;
        int next_row = 0, count;
        batches_begin_epoch(&s);
        while ((count = batches_next(&s, &b)) > 0)
            for (int r = 0; r < count; r++) CU_ASSERT_EQUAL(b.x[r * 4], (float)next_row++);
        CU_ASSERT_EQUAL(next_row, 7);
    }
    batches_free(&s);
    batches_for_evaluation(&s, &none, NULL, 3, 0);
    Batch b;
    batches_begin_epoch(&s);
    CU_ASSERT_EQUAL(batches_per_epoch(&s), 0);
    CU_ASSERT_EQUAL(batches_next(&s, &b), 0);
    batches_free(&s);
    dataset_free(&ds);
    dataset_free(&none);
}

/* A token stream: B tracks, batch k continuing batch k − 1 in every row (carry_state from the
 * second batch on), targets the inputs shifted by one; a new epoch starts the tracks again. */
static void test_stream(void) {
    TokenStream t = counting_stream(101);   /* tracks of ⌊100/4⌋ = 25 tokens: 3 windows of 8 */
    BatchSource s;
    ExError err;
    CU_ASSERT_EQUAL_FATAL(batches_for_training(&s, NULL, &t, 4, 8, 1, 0, rng_stream(1, "shuffle"), "count", &err), 0);
    CU_ASSERT_EQUAL(batches_per_epoch(&s), 3);
    CU_ASSERT_EQUAL(batches_steps_per_row(&s), 8);
    for (int e = 0; e < 2; e++) {
        Batch b;
        int32_t last[4] = {0};
        batches_begin_epoch(&s);
        for (int k = 0; k < 3; k++) {
            CU_ASSERT_EQUAL_FATAL(batches_next(&s, &b), 4);
            CU_ASSERT_EQUAL(b.carry_state, k > 0);
            CU_ASSERT(b.T == 8 && b.Ty == 8 && b.x == NULL);
            for (int r = 0; r < 4; r++) {
                if (k == 0) CU_ASSERT_EQUAL(b.x_tokens[r * 8], r * 25);
                if (k > 0) CU_ASSERT_EQUAL(b.x_tokens[r * 8], last[r] + 1);
                for (int i = 0; i < 8; i++) CU_ASSERT_EQUAL(b.y_tokens[r * 8 + i], b.x_tokens[r * 8 + i] + 1);
                last[r] = b.x_tokens[r * 8 + 7];
            }
        }
        CU_ASSERT_EQUAL(batches_next(&s, &b), 0);
    }
    BatchPosition pos;
    batches_get_position(&s, &pos);
    CU_ASSERT(pos.data_epoch == 0 && pos.cursor == 0 && !(pos.rng.s[0] | pos.rng.s[1] | pos.rng.s[2] | pos.rng.s[3]));
    char why[256];
    batches_check_position(&s, &pos, 3, 1, why, sizeof why);
    CU_ASSERT_STRING_EQUAL(why, "");
    /* a resume after batch 2 goes on with batch 2, carrying the state */
    CU_ASSERT_EQUAL(batches_set_position(&s, &pos, 2, &err), 0);
    Batch b;
    CU_ASSERT_EQUAL_FATAL(batches_next(&s, &b), 4);
    CU_ASSERT(b.carry_state && b.x_tokens[0] == 16);
    batches_free(&s);

    /* evaluation: B halved until a window fits; an empty stream has no batches */
    batches_for_evaluation(&s, NULL, &t, 64, 8);
    CU_ASSERT_EQUAL(s.B, 8);   /* ⌊100/16⌋ = 6 < 8, ⌊100/8⌋ = 12 ≥ 8 */
    CU_ASSERT_EQUAL(batches_per_epoch(&s), 1);
    batches_free(&s);
    TokenStream empty = {0};
    batches_for_evaluation(&s, NULL, &empty, 64, 8);
    CU_ASSERT_EQUAL(batches_per_epoch(&s), 0);
    batches_begin_epoch(&s);
    CU_ASSERT_EQUAL(batches_next(&s, &b), 0);
    batches_free(&s);
    free(t.tokens);
}

/* The position after two batches, restored into a source made the same way, gives the rest of
 * the epoch and the next one exactly as the source that never stopped; the check accepts it
 * where it was taken and refuses it elsewhere, and refuses an all-zero RNG. */
static void test_dataset_position(void) {
    Dataset ds = numbered_rows(10);
    BatchSource a, c;
    ExError err;
    CU_ASSERT_EQUAL_FATAL(batches_for_training(&a, &ds, NULL, 4, 0, 1, 0, rng_stream(3, "shuffle"), "n", &err), 0);
    CU_ASSERT_EQUAL_FATAL(batches_for_training(&c, &ds, NULL, 4, 0, 1, 0, rng_stream(3, "shuffle"), "n", &err), 0);
    Batch b, bc;
    batches_begin_epoch(&a);   /* epoch 0 */
    batches_next(&a, &b);
    batches_next(&a, &b);
    BatchPosition pos;
    batches_get_position(&a, &pos);
    char why[256];
    batches_check_position(&a, &pos, 0, 2, why, sizeof why);
    CU_ASSERT_STRING_EQUAL(why, "");
    batches_check_position(&a, &pos, 0, 1, why, sizeof why);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "is not where batch 1 of epoch 1 puts it"));
    BatchPosition zero = pos;
    memset(&zero.rng, 0, sizeof zero.rng);
    batches_check_position(&a, &zero, 0, 2, why, sizeof why);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "all zeros"));

    CU_ASSERT_EQUAL_FATAL(batches_set_position(&c, &pos, 2, &err), 0);
    for (int e = 0; e < 2; e++) {
        if (e == 1) {
            batches_begin_epoch(&a);
            batches_begin_epoch(&c);
        }
        int na, nc;
        do {
            na = batches_next(&a, &b);
            float xa[16];
            memcpy(xa, b.x, (size_t)na * 4 * sizeof(float));
            nc = batches_next(&c, &bc);
            CU_ASSERT_EQUAL_FATAL(na, nc);
            CU_ASSERT_EQUAL(memcmp(xa, bc.x, (size_t)na * 4 * sizeof(float)), 0);
        } while (na > 0);
    }
    /* the end of an epoch: batch 0 of the next */
    batches_get_position(&a, &pos);
    batches_check_position(&a, &pos, 2, 0, why, sizeof why);
    CU_ASSERT_STRING_EQUAL(why, "");
    batches_check_position(&a, &pos, 1, 0, why, sizeof why);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "is not the end of epoch 1"));
    batches_free(&a);
    batches_free(&c);
    dataset_free(&ds);
}

int main(void) {
    const TestCase cases[] = {
        {"dataset: an epoch holds every row once, reshuffled", test_dataset_epoch},
        {"too little data: errors that name it", test_too_little},
        {"dataset evaluation: rows in order, empty split", test_dataset_evaluation},
        {"token stream: tracks continue, carry state, evaluation's batch", test_stream},
        {"dataset position: saved, restored, checked", test_dataset_position},
        {NULL, NULL},
    };
    return run_tests("batches", cases);
}
