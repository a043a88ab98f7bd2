/* test_summarize.c — `exprun summarize` on small runs the test makes: the aligned table (columns
 * line up, one typed column per key that differs, values match results.h5, the best run marked
 * and named), the CSV (parsed by Python's csv module and checked against h5py), sorting and
 * grouping by seed (mean ± std), statuses (finished, interrupted, "killed?" for a run nobody
 * holds, running while its lock is held), a run without results, and bad folders. */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "fixtures.h"
#include "h5read.h"
#include "rng.h"
#include "runsummary.h"
#include "runcheck.h"
#include "testutil.h"

static char *tmp;
static char exe[4096];
static char data_path[1024], spec_path[1024];

static void make_data_and_spec(void) {
    enum { N = 200, D = 10 };
    static float x[N * D];
    Rng r;
    rng_seed(&r, 2);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++) x[i * D + j] = rng_uniform(&r);
    snprintf(data_path, sizeof data_path, "%s/data.h5", tmp);
    fixture_write_h5(data_path, x, NULL, N, D);
    char text[2048];
    /* 180 training rows / 50 = 4 steps per epoch */
    snprintf(text, sizeof text,
             "version: 1\nname: summ\nseed: 5\nthreads: 1\ndata: {source: hdf5, path: %s}\n"
             "model: {type: autoencoder, code: 3}\nloss: squared_error\noptimizer: {lr: 0.01}\n"
             "train: {epochs: 4, batch_size: 50}\n",
             data_path);
    snprintf(spec_path, sizeof spec_path, "%s/spec.yaml", tmp);
    rc_write_text(spec_path, text);
}

static int sh(const char *fmt, const char *a, const char *b) {
    char cmd[16384];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    return run_command(cmd);
}

static void make_runs(void) {
    static char cmd[96 * 1024];   /* 15 paths of up to 4 kB */
    /* a: 4 epochs, an override holding commas; b: 2 epochs; c: stopped after 6 steps */
    snprintf(cmd, sizeof cmd,
             "cd %s && %s %s --out runs/a -q optimizer.lr=0.02 'model.noise={type: masking, rate: 0.1}' "
             "&& %s %s --out runs/b -q train.epochs=2 "
             "&& (EXPRUN_STOP_AFTER_STEPS=6 %s %s --out runs/c -q 2>/dev/null; test $? = 143) "
             "&& cp -r runs/a runs/d && echo running > runs/d/status "
             "&& mkdir runs/e && cp runs/a/resolved.yaml runs/e/ && echo failed > runs/e/status "
             /* a grid of two learning rates by two seeds (keys in another order in one run) */
             "&& %s %s --out grid/lr1-s1 -q optimizer.lr=0.01 seed=1 threads=1 "
             "&& %s %s --out grid/lr1-s2 -q optimizer.lr=0.01 seed=2 threads=1 "
             "&& %s %s --out grid/lr2-s1 -q seed=1 optimizer.lr=0.02 threads=1 "
             "&& %s %s --out grid/lr2-s2 -q optimizer.lr=0.02 seed=2 threads=1",
             tmp, exe, spec_path, exe, spec_path, exe, spec_path, exe, spec_path, exe, spec_path, exe, spec_path,
             exe, spec_path);
    if (run_command(cmd) != 0) {
        fprintf(stderr, "test_summarize: could not make the runs\n");
        exit(1);
    }
}

/* Where each word of the header starts and ends. */
static int header_columns(const char *line, int *start, int *end, int cap) {
    int n = 0;
    for (int i = 0; line[i] && line[i] != '\n' && n < cap; i++)
        if (line[i] != ' ' && (i == 0 || line[i - 1] == ' ')) {
            start[n] = i;
            int j = i;
            while (line[j] && line[j] != ' ' && line[j] != '\n') j++;
            end[n++] = j;
        }
    return n;
}

/* The table's lines (at most cap), split in place. */
static int split_lines(char *text, char **lines, int cap) {
    int n = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && n < cap; l = strtok_r(NULL, "\n", &save)) lines[n++] = l;
    return n;
}

/* Every row's cells start (left-aligned columns) or end (right-aligned ones) where its header does. */
static void check_alignment(char **lines, int header, int n, const int *right, int want_columns) {
    int start[32], end[32];
    int nc = header_columns(lines[header], start, end, 32);
    CU_ASSERT_EQUAL_FATAL(nc, want_columns);
    for (int r = header + 1; r < n && lines[r][0] != '#'; r++)
        for (int c = 0; c < nc; c++) {
            const char *row = lines[r];
            int len = (int)strlen(row);
            if (right[c]) {
                CU_ASSERT(end[c] - 1 < len && row[end[c] - 1] != ' ' && (row[end[c]] == ' ' || row[end[c]] == '\0'));
            } else {
                CU_ASSERT(start[c] < len && row[start[c]] != ' ' && (start[c] == 0 || row[start[c] - 1] == ' '));
            }
        }
}

static void test_aligned_table(void) {
    char cmd[8192], out_path[1100];
    snprintf(out_path, sizeof out_path, "%s/table.txt", tmp);
    snprintf(cmd, sizeof cmd, "cd %s && %s summarize runs > table.txt 2> table.err", tmp, exe);
    CU_ASSERT_EQUAL_FATAL(run_command(cmd), 0);
    char *text = rc_slurp_text(out_path);
    char *lines[16];
    int n = split_lines(text, lines, 16);
    CU_ASSERT_EQUAL_FATAL(n, 8);                    /* "# runs in runs/", header, 5 runs, the best */
    CU_ASSERT_STRING_EQUAL(lines[0], "# runs in runs/");
    /* one column per key that differs: a's and d's optimizer.lr and model.noise, b's train.epochs;
     * a run that does not set a key shows the value its resolved spec used */
    CU_ASSERT(strncmp(lines[1], "  run  name  status       epochs  optimizer.lr  model.noise                             "
                                "train.epochs  train_loss  val_loss  best_val  best_epoch  ae_over_pca_test  train_time",
                      171) == 0);
    if (strncmp(lines[1], "  run  name  status", 19) != 0) printf("\n%s\n", lines[1]);
    /* left-aligned: run, name, status, model.noise (text); the rest (numbers, epochs) right-aligned;
     * the evaluation's PCA ratio is a headline metric (the CSV has all its numbers) */
    const int right[13] = {0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1};
    check_alignment(lines, 1, n, right, 13);
    /* a and d have the lowest best_val (d is a's copy): a, the first, is marked and named */
    CU_ASSERT(strncmp(lines[2], "* a    summ  finished        4/4          0.02  {type: masking, rate: 0.1}", 74) == 0);
    CU_ASSERT(strncmp(lines[3], "  b    summ  finished        2/2          0.01  {type: none, rate: 0.0, sigma: 0.0}                2",
                      100) == 0);
    CU_ASSERT(strncmp(lines[4], "  c    summ  interrupted     1/4", 32) == 0);
    CU_ASSERT(strncmp(lines[5], "  d    summ  killed?         4/4          0.02", 46) == 0);
    CU_ASSERT(strncmp(lines[6], "  e    summ  failed          0/4          0.02  {type: masking, rate: 0.1, sigma: 0.0}", 86) == 0);
    CU_ASSERT(strncmp(lines[7], "# best: a (best_val ", 20) == 0);
    CU_ASSERT(strstr(lines[7], ", the lowest): optimizer.lr=0.02 model.noise={type: masking, rate: 0.1} train.epochs=4") != NULL);
    /* run a's best val_loss, as results.h5 has it, to the column's 5 decimals (all are under 10) */
    char h5[1100];
    snprintf(h5, sizeof h5, "%s/runs/a/results.h5", tmp);
    H5Reader *rd;
    ExError err;
    CU_ASSERT_FATAL(h5r_open(&rd, h5, &err) == 0);
    int ncols;
    char **names;
    int64_t nrows;
    double *rows;
    CU_ASSERT_FATAL(h5r_read_table(rd, "/metrics/epochs", &ncols, &names, &nrows, &rows, &err) == 0);
    int cv = -1;
    for (int c = 0; c < ncols; c++)
        if (strcmp(names[c], "val_loss") == 0) cv = c;
    double best = INFINITY;
    for (int64_t i = 0; i < nrows; i++) best = fmin(best, rows[i * ncols + cv]);
    CU_ASSERT_FATAL(best < 10);
    char want[64];
    snprintf(want, sizeof want, " %.5f ", best);
    CU_ASSERT(strstr(lines[2], want) != NULL);
    h5r_free_strings(names, (size_t)ncols);
    free(rows);
    h5r_close(rd);
    free(text);
    /* the run without results is named on stderr */
    snprintf(out_path, sizeof out_path, "%s/table.err", tmp);
    char *errs = rc_slurp_text(out_path);
    CU_ASSERT(strstr(errs, "runs/e: no results.h5 yet") != NULL);
    free(errs);
}

/* --sort orders the rows (NaN last either way), --group-by folds the seeds into mean ± std, and
 * the best is by the metric's own sense (accuracy-like up, losses down), not the sort's. */
static void test_sort_and_group(void) {
    char cmd[8192], path[1100];
    /* the four runs' best_val, from their own files */
    const char *names[4] = {"lr1-s1", "lr1-s2", "lr2-s1", "lr2-s2"};
    double best[4];
    for (int i = 0; i < 4; i++) {
        char dir[1100];
        snprintf(dir, sizeof dir, "%s/grid/%s", tmp, names[i]);
        RunSummary s;
        ExError err;
        CU_ASSERT_FATAL(run_summary_read(dir, &s, &err) == 0);
        best[i] = s.best_val;
        CU_ASSERT_STRING_EQUAL(run_keys_get(&s.keys, "seed"), i % 2 ? "2" : "1");
        run_summary_free(&s);
    }
    snprintf(cmd, sizeof cmd, "cd %s && %s summarize grid --sort -best_val > sorted.txt", tmp, exe);
    CU_ASSERT_EQUAL_FATAL(run_command(cmd), 0);
    snprintf(path, sizeof path, "%s/sorted.txt", tmp);
    char *text = rc_slurp_text(path);
    char *lines[16];
    int n = split_lines(text, lines, 16);
    CU_ASSERT_EQUAL_FATAL(n, 7);
    /* typed key columns: seed and optimizer.lr numbers (right-aligned); threads=1 is shared: left out */
    CU_ASSERT(strstr(lines[1], "optimizer.lr  seed  train_loss") != NULL);
    CU_ASSERT(strstr(lines[1], "threads") == NULL);
    const int right[12] = {0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    check_alignment(lines, 1, n, right, 12);
    int lowest = 0, highest = 0;
    for (int i = 1; i < 4; i++) {
        if (best[i] < best[lowest]) lowest = i;
        if (best[i] > best[highest]) highest = i;
    }
    CU_ASSERT(strncmp(lines[2] + 2, names[highest], 6) == 0);     /* descending */
    CU_ASSERT(strncmp(lines[5] + 2, names[lowest], 6) == 0);
    /* the lowest best_val is still the best, marked where it sorted to */
    CU_ASSERT(lines[5][0] == '*' && lines[2][0] == ' ');
    char want[128];
    snprintf(want, sizeof want, "# best: %s (best_val %.5f, the lowest): optimizer.lr=0.0%d seed=%d", names[lowest],
             best[lowest], lowest / 2 + 1, lowest % 2 + 1);
    CU_ASSERT_STRING_EQUAL(lines[6], want);
    free(text);

    snprintf(cmd, sizeof cmd, "cd %s && %s summarize grid --group-by > grouped.txt", tmp, exe);
    CU_ASSERT_EQUAL_FATAL(run_command(cmd), 0);
    snprintf(path, sizeof path, "%s/grouped.txt", tmp);
    text = rc_slurp_text(path);
    n = split_lines(text, lines, 16);
    CU_ASSERT_EQUAL_FATAL(n, 4);            /* header, two learning rates, the best */
    CU_ASSERT(strncmp(lines[0], "  name  optimizer.lr  runs  finished", 36) == 0);
    for (int g = 0; g < 2; g++) {
        double a = best[2 * g], b = best[2 * g + 1], mean = (a + b) / 2, sd = fabs(a - b) / sqrt(2.0);
        snprintf(want, sizeof want, "%.5f ± %.5f", mean, sd);
        CU_ASSERT(strstr(lines[1 + g], want) != NULL);
        snprintf(want, sizeof want, "0.0%d     2         2", g + 1);
        CU_ASSERT(strstr(lines[1 + g], want) != NULL);
    }
    CU_ASSERT(strncmp(lines[3], "# best: summ (best_val mean ", 28) == 0);
    free(text);
    /* the same as CSV: mean and std columns */
    snprintf(cmd, sizeof cmd, "cd %s && %s summarize grid --group-by=optimizer.lr --csv > grouped.csv", tmp, exe);
    CU_ASSERT_EQUAL_FATAL(run_command(cmd), 0);
    snprintf(path, sizeof path, "%s/grouped.csv", tmp);
    text = rc_slurp_text(path);
    CU_ASSERT(strncmp(text, "name,optimizer.lr,runs,finished,final_train_loss_mean,final_train_loss_std,", 75) == 0);
    free(text);
    /* an unknown column or key: exit 2, naming what there is */
    snprintf(cmd, sizeof cmd, "cd %s && %s summarize grid --sort nope 2> bad.txt", tmp, exe);
    CU_ASSERT_EQUAL(run_command(cmd), 2);
    snprintf(path, sizeof path, "%s/bad.txt", tmp);
    text = rc_slurp_text(path);
    CU_ASSERT(strstr(text, "--sort: no column 'nope' (columns: run, run_dir, name, status, epochs,") != NULL);
    free(text);
    snprintf(cmd, sizeof cmd, "cd %s && %s summarize grid --group-by=model.code 2> bad.txt", tmp, exe);
    CU_ASSERT_EQUAL(run_command(cmd), 2);
    text = rc_slurp_text(path);
    CU_ASSERT(strstr(text, "no run sets the key 'model.code' (the runs' keys: optimizer.lr, seed, threads)") != NULL);
    free(text);
    snprintf(cmd, sizeof cmd, "cd %s && %s summarize grid --sort 2> bad.txt", tmp, exe);
    CU_ASSERT_EQUAL(run_command(cmd), 2);
}

static void test_csv_matches_h5py(void) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd %s && %s summarize runs/ --csv > table.csv 2>/dev/null", tmp, exe);
    CU_ASSERT_EQUAL_FATAL(run_command(cmd), 0);
    char py[1100];
    snprintf(py, sizeof py, "%s/check_csv.py", tmp);
    rc_write_text(py,
               "import csv, math, sys\n"
               "try:\n"
               "    import h5py\n"
               "except ImportError:\n"
               "    sys.exit(3)\n"
               "rows = list(csv.reader(open(sys.argv[1])))\n"
               "head = rows[0]\n"
               "assert head[:8] == ['run_dir','name','status','epochs','epochs_total','optimizer.lr','model.noise',"
               "'train.epochs'], head\n"
               "assert head[8:12] == ['final_train_loss','final_val_loss','best_val_loss','best_epoch'], head\n"
               "assert head[-5:] == ['train_time_s','wall_time_s','overrides','stop_epoch','stop_reason'], head\n"
               "assert len(rows) == 6, len(rows)\n"
               "assert all(len(r) == len(head) for r in rows)\n"
               "by = {r[0].split('/')[-1]: dict(zip(head, r)) for r in rows[1:]}\n"
               "assert by['a']['overrides'] == 'optimizer.lr=0.02 model.noise={type: masking, rate: 0.1}', by['a']\n"
               "assert by['a']['optimizer.lr'] == '0.02' and by['a']['model.noise'] == '{type: masking, rate: 0.1}'\n"
               "assert by['b']['train.epochs'] == '2' and by['b']['optimizer.lr'] == '0.01'\n"
               "assert by['a']['train.epochs'] == '4' and by['e']['model.noise'] == '{type: masking, rate: 0.1, sigma: 0.0}'\n"
               "import pandas\n"
               "df = pandas.read_csv(sys.argv[1])\n"
               "assert str(df['optimizer.lr'].dtype) == 'float64' and str(df['train.epochs'].dtype) == 'int64', df.dtypes\n"
               "assert str(df['model.noise'].dtype) == 'object' and str(df['best_val_loss'].dtype) == 'float64'\n"
               "assert by['c']['status'] == 'interrupted' and by['c']['epochs'] == '1' and by['c']['epochs_total'] == '4'\n"
               "assert by['e']['final_train_loss'] == '' and by['e']['train_time_s'] == ''\n"
               "for name in 'abc':\n"
               "    r = by[name]\n"
               "    with h5py.File('runs/%s/results.h5' % name, 'r') as f:\n"
               "        t = f['metrics/epochs'][()]\n"
               "        ev = dict(f['evaluation'].attrs) if 'evaluation' in f else {}\n"
               "    assert int(r['epochs']) == len(t)\n"
               "    assert abs(float(r['final_train_loss']) - t['train_loss'][-1]) <= 1e-8 * abs(t['train_loss'][-1])\n"
               "    assert abs(float(r['best_val_loss']) - t['val_loss'].min()) <= 1e-8 * abs(t['val_loss'].min())\n"
               "    assert int(r['best_epoch']) == int(t['epoch'][t['val_loss'].argmin()])\n"
               "    assert abs(float(r['train_time_s']) - t['epoch_time'].sum()) <= 1e-3\n"
               "    assert float(r['wall_time_s']) >= 0\n"
               "    # every number of the evaluation block has its column (c stopped before evaluating)\n"
               "    assert (len(ev) > 0) == (name != 'c'), (name, ev)\n"
               "    for k, v in ev.items():\n"
               "        if isinstance(v, (int, float)) or getattr(v, 'shape', None) == ():\n"
               "            assert abs(float(r[k]) - float(v)) <= 1e-8 * max(1.0, abs(float(v))), (k, r[k], v)\n"
               "print('ok')\n");
    snprintf(cmd, sizeof cmd, "cd %s && /usr/bin/python3 check_csv.py table.csv > py.txt 2>&1", tmp);
    int rc = run_command(cmd);
    CU_ASSERT(rc == 0 || rc == 3);
    if (rc != 0 && rc != 3) {
        char p[1100];
        snprintf(p, sizeof p, "%s/py.txt", tmp);
        char *t = rc_slurp_text(p);
        printf("\n%s\n", t);
        free(t);
    }
}

/* "running" in the status file: running while the lock is held, killed? when nobody holds it. */
static void test_running_vs_killed(void) {
    char dir[1100], lock[1200];
    snprintf(dir, sizeof dir, "%s/runs/d", tmp);
    RunSummary s;
    ExError err;
    CU_ASSERT_FATAL(run_summary_read(dir, &s, &err) == 0);
    CU_ASSERT_STRING_EQUAL(s.status, "killed?");
    run_summary_free(&s);
    snprintf(lock, sizeof lock, "%s/.lock", dir);
    int fd = open(lock, O_RDWR | O_CREAT, 0666);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FATAL(flock(fd, LOCK_EX | LOCK_NB) == 0);
    CU_ASSERT_FATAL(run_summary_read(dir, &s, &err) == 0);
    CU_ASSERT_STRING_EQUAL(s.status, "running");
    CU_ASSERT_EQUAL(s.epochs, 4);
    CU_ASSERT_EQUAL(s.epochs_total, 4);
    run_summary_free(&s);
    close(fd);
    /* the probe left no lock behind: a writer can still take it */
    fd = open(lock, O_RDWR);
    CU_ASSERT(flock(fd, LOCK_EX | LOCK_NB) == 0);
    close(fd);
}

static void test_bad_folders(void) {
    char args[2048];
    CU_ASSERT_EQUAL(sh("%s summarize %s/nope > /dev/null 2>&1", exe, tmp), 2);
    CU_ASSERT_EQUAL(sh("%s summarize > /dev/null 2>&1%s", exe, ""), 2);
    snprintf(args, sizeof args, "%s/empty", tmp);
    sh("mkdir -p %s%s", args, "");
    CU_ASSERT_EQUAL(sh("%s summarize %s > /dev/null 2>&1", exe, args), 0);
    /* a run directory given directly, twice: one row */
    char **paths;
    int n;
    ExError err;
    char a[1100];
    snprintf(a, sizeof a, "%s/runs/a", tmp);
    char *folders[2] = {a, a};
    CU_ASSERT_FATAL(find_run_dirs(folders, 2, &paths, &n, &err) == 0);
    CU_ASSERT_EQUAL(n, 1);
    for (int i = 0; i < n; i++) free(paths[i]);
    free(paths);
    char buf[32];
    format_seconds(buf, sizeof buf, 12.34);
    CU_ASSERT_STRING_EQUAL(buf, "12.3s");
    format_seconds(buf, sizeof buf, 3725);
    CU_ASSERT_STRING_EQUAL(buf, "1:02:05");
}

int main(void) {
    tmp = make_temp_dir("summarize");
    if (!realpath(exprun_bin(), exe)) {
        perror(exprun_bin());
        return 1;
    }
    make_data_and_spec();
    make_runs();
    TestCase cases[] = {{"aligned table", test_aligned_table},
                        {"CSV, checked with h5py", test_csv_matches_h5py},
                        {"--sort, --group-by, the best run", test_sort_and_group},
                        {"running (lock held) vs killed? (no lock)", test_running_vs_killed},
                        {"bad folders, duplicates, durations", test_bad_folders},
                        {NULL, NULL}};
    int rc = run_tests_in("summarize", cases, tmp);
    return rc;
}
