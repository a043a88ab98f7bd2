/* main.c — the exprun command line: train, validate, show, resume, sample, encode, sweep, summarize,
 * plot, report. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "encode.h"
#include "export.h"
#include "predict.h"
#include "plot.h"
#include "report.h"
#include "rundir.h"
#include "summarize.h"
#include "sweep.h"
#include "train.h"
#include "dist.h"
#include "spec/cfg.h"
#include "version.h"

static const char USAGE[] =
    "usage: exprun SPEC [key=value ...] [--out DIR] [--init-from CHECKPOINT] [--quiet]\n"
    "       exprun validate SPEC [key=value ...]   check everything short of training\n"
    "       exprun show SPEC [key=value ...] [--origin]\n"
    "                                              print the resolved spec (bases merged, every default\n"
    "                                              filled in; --origin: where each value came from)\n"
    "       exprun resume RUN_DIR [--epochs N]     continue a stopped run from its latest checkpoint\n"
    "                                              (--epochs N: extend a run to N epochs)\n"
    "       exprun sample RUN_DIR [--length N] [--temperature T] [--prime TEXT] [--seed S] [--checkpoint best|latest|FILE]\n"
    "       exprun encode RUN_DIR DATA [--labels FILE] [--out FILE]\n"
    "                                              autoencoder codes h of DATA (a file, or train|val|test),\n"
    "                                              with labels and reconstruction errors, to HDF5\n"
    "       exprun export RUN_DIR -o FILE          the trained model as safetensors (PyTorch's names) or ONNX\n"
    "       exprun predict RUN_DIR INPUT.h5        a recurrent model applied to /tokens, /x, /text or /classes, to HDF5\n"
    "       exprun keys [PREFIX]                   every spec key (or those under PREFIX): type, default, meaning\n"
    "       exprun sweep SPEC [key=value ...] [--list | --index I | --jobs N] [--fail-fast]\n"
    "                                              the trials of the spec's sweep: block\n"
    "       exprun summarize DIR... [--csv]        one table of the runs under DIR...\n"
    "       exprun plot RUN... -o FILE             learning curves (and more) as PNG, SVG or PDF\n"
    "       exprun report DIR... -o FILE.html      the runs compared in one self-contained HTML page\n"
    "       exprun COMMAND --help                  a command's own usage and options\n"
    "       exprun --help | --version\n"
    "\n"
    "Overrides are dotted spec keys, list items by index: optimizer.lr=3e-4 model.units.1=512;\n"
    "a section may name a file that holds it: data=configs/data/fashion.yaml\n"
    "\n"
    "exit status: 0 success; 2 usage or spec error; 3 runtime failure (data, I/O);\n"
    "             4 diverged (NaN/Inf, train.on_nan: stop); 5 run directory in use;\n"
    "             128+N stopped by signal N after writing a checkpoint (130 SIGINT, 143 SIGTERM,\n"
    "             138 SIGUSR1); exprun sweep (--jobs): the number of trials that did not finish\n"
    "             (at most 100)\n";

/* The commands this file runs itself, each with its usage for `--help` (the others parse their
 * own arguments: sweep, summarize, plot, report, encode, export, predict). */
typedef struct CommandHelp {
    const char *name, *text;
} CommandHelp;
static const CommandHelp HELP[] = {
    {"validate", "usage: exprun validate SPEC [key=value ...]\n"
                 "  check everything short of training: the spec (all problems at once), the data, the\n"
                 "  model's graph and memory, the output folder; exit 0 when a run would start\n"},
    {"show", "usage: exprun show SPEC [key=value ...] [--origin]\n"
             "  print the resolved spec: bases merged, overrides applied, every default filled in;\n"
             "  --origin: each value followed by where it came from (FILE:LINE, schema default, override)\n"},
    {"resume", "usage: exprun resume RUN_DIR [--epochs N]\n"
               "  continue a stopped run from its latest checkpoint, bit for bit;\n"
               "  --epochs N: extend the run to N epochs\n"},
    {"sample", "usage: exprun sample RUN_DIR [--length N] [--temperature T] [--prime TEXT] [--seed S]\n"
               "                     [--checkpoint best|latest|FILE]\n"
               "  text from a trained character model (temperature 0: greedy)\n"},
    {"keys", "usage: exprun keys [PREFIX]\n"
             "  every spec key with its type, default and meaning; with PREFIX (data, optimizer.lr), those at\n"
             "  and below it\n"},
};
static const char *const COMMANDS[] = {"validate", "show",   "resume",    "sample", "keys", "encode", "export",
                                       "predict",  "sweep", "summarize", "plot",   "report", NULL};

static const char *current_command = NULL;   /* for "try 'exprun COMMAND --help'" */

static const char *help_of(const char *cmd) {
    for (size_t i = 0; i < sizeof HELP / sizeof HELP[0]; i++)
        if (cmd && strcmp(HELP[i].name, cmd) == 0) return HELP[i].text;
    return NULL;
}

/* One line saying what is wrong, one saying where the help is: not the whole usage. */
__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "exprun: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (current_command) fprintf(stderr, "\ntry 'exprun %s --help'\n", current_command);
    else fprintf(stderr, "\ntry 'exprun --help'\n");
    return EXIT_USAGE;
}

/* The length of an override's key (up to '='). */
static size_t key_length(const char *assignment) {
    const char *eq = strchr(assignment, '=');
    return eq ? (size_t)(eq - assignment) : strlen(assignment);
}

/* Whether text reads as a dotted spec key (optimizer.lr, model.units.1). */
static int looks_like_key(const char *text) {
    int dots = 0;
    if (!((*text >= 'a' && *text <= 'z') || *text == '_')) return 0;
    for (const char *c = text; *c; c++) {
        if (*c == '.') dots++;
        else if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')) return 0;
    }
    return dots > 0;
}

/* Split argv into the spec, key=value overrides and options. */
typedef struct Args {
    const char *spec;
    char *overrides[256];
    int n_overrides;
    const char *out_dir, *init_from, *prime, *checkpoint;
    int quiet, length, has_seed, epochs, origin;
    double temperature;
    unsigned long long seed;
} Args;

/* A whole integer in [lo, hi], or a finite number in [lo, hi]: the option's value, or -1 with the
 * reason said (atoi would wrap 99999999999, atof takes "nan"). */
static int option_int(const char *option, const char *text, long long lo, long long hi, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (end == text || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "exprun: %s '%s': expected a whole number from %lld to %lld\n", option, text, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int option_double(const char *option, const char *text, double lo, double hi, double *out) {
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end || !isfinite(v) || v < lo || v > hi) {
        fprintf(stderr, "exprun: %s '%s': expected a number from %g to %g\n", option, text, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, int first, Args *a) {
    memset(a, 0, sizeof *a);
    a->length = 500;
    a->temperature = 0.8;
    for (int i = first; i < argc; i++) {
        const char *s = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(s, "--quiet") == 0 || strcmp(s, "-q") == 0) a->quiet = 1;
        else if (strcmp(s, "--origin") == 0) a->origin = 1;
        else if (strcmp(s, "--out") == 0 && has_value) a->out_dir = argv[++i];
        else if (strcmp(s, "--init-from") == 0 && has_value) a->init_from = argv[++i];
        else if (strcmp(s, "--prime") == 0 && has_value) a->prime = argv[++i];
        else if (strcmp(s, "--checkpoint") == 0 && has_value) a->checkpoint = argv[++i];
        else if (strcmp(s, "--epochs") == 0 && has_value) {
            long long v;
            if (option_int("--epochs", argv[++i], 1, 1000000000, &v) != 0) return EXIT_USAGE;
            a->epochs = (int)v;
        }
        else if (strcmp(s, "--length") == 0 && has_value) {
            long long v;
            if (option_int("--length", argv[++i], 1, 10000000, &v) != 0) return EXIT_USAGE;
            a->length = (int)v;
        } else if (strcmp(s, "--temperature") == 0 && has_value) {
            if (option_double("--temperature", argv[++i], 0.0, 100.0, &a->temperature) != 0) return EXIT_USAGE;
        } else if (strcmp(s, "--seed") == 0 && has_value) {
            long long v;
            if (option_int("--seed", argv[++i], 0, LLONG_MAX, &v) != 0) return EXIT_USAGE;
            a->seed = (unsigned long long)v;
            a->has_seed = 1;
        }
        else if (s[0] == '-' && s[1] == '-') return usage_error("unknown option or missing value: %s", s);
        else if (strchr(s, '=')) {
            if (a->n_overrides == 256) return usage_error("too many overrides (at most 256)%s", "");
            for (int k = 0; k < a->n_overrides; k++)
                if (key_length(a->overrides[k]) == key_length(s) && strncmp(a->overrides[k], s, key_length(s)) == 0)
                    return usage_error("%.*s is overridden twice ('%s', then '%s'): give it once", (int)key_length(s), s,
                                       a->overrides[k], s);
            a->overrides[a->n_overrides++] = argv[i];
        } else if (!a->spec) a->spec = s;
        else if (looks_like_key(s) && i + 1 < argc && argv[i + 1][0] != '-')
            return usage_error("unexpected argument '%s': an override is one word, %s=%s", s, s, argv[i + 1]);
        else return usage_error("unexpected argument '%s' (overrides look like key=value)", s);
    }
    return 0;
}

/* The end of a training command under MPI (dist.h). Every rank reaches the same end after a
 * finished run, a divergence or a stop (decided on values all ranks share): MPI ends in order.
 * Any other failure may be one rank's alone, and the others would wait for it in the next
 * all-reduce: the whole job ends now with its status. */
static int ranks_end(int status) {
    if (status == EXIT_OK || status == EXIT_DIVERGED || status >= 128) dist_finalize();
    else dist_abort(status);
    return status;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    dist_init(&argc, &argv);
    if (argc < 2) return usage_error("missing SPEC (or a command)%s", "");
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(USAGE, stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("exprun %s (git %s)\n", exprun_version(), exprun_git_commit());
        printf("mpi: %s\n", dist_library() ? dist_library() : "no (built without MPI: data-parallel training off)");
        return EXIT_OK;
    }
    /* Commands with their own options (and their own --help). */
    if (strcmp(cmd, "sweep") == 0) return command_sweep(argc - 2, argv + 2);
    if (strcmp(cmd, "summarize") == 0) return command_summarize(argc - 2, argv + 2);
    if (strcmp(cmd, "plot") == 0) return command_plot(argc - 2, argv + 2);
    if (strcmp(cmd, "report") == 0) return command_report(argc - 2, argv + 2);
    if (strcmp(cmd, "export") == 0) return command_export(argc - 2, argv + 2);
    if (strcmp(cmd, "predict") == 0) return command_predict(argc - 2, argv + 2);
    if (strcmp(cmd, "encode") == 0) return command_encode(argc - 2, argv + 2);
    int is_command = help_of(cmd) != NULL;
    if (is_command) current_command = cmd;
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(is_command ? help_of(cmd) : USAGE, stdout);
            return EXIT_OK;
        }
    if (!is_command && !strchr(cmd, '/') && !strchr(cmd, '.') && !strchr(cmd, '=') && cmd[0] != '-' &&
        access(cmd, F_OK) != 0) {
        /* neither a command nor a spec file: a mistyped command, most likely */
        const char *best = cfg_closest(cmd, COMMANDS, (int)(sizeof COMMANDS / sizeof COMMANDS[0]) - 1);
        if (best) return usage_error("unknown command '%s' (did you mean '%s'?)", cmd, best);
        return usage_error("no command or spec file '%s'", cmd);
    }
    Args a;
    if (parse_args(argc, argv, is_command ? 2 : 1, &a) != 0) return EXIT_USAGE;
    int progress = isatty(STDERR_FILENO) && !a.quiet;
    if (strcmp(cmd, "keys") == 0) return command_keys(a.spec);
    if (a.epochs && strcmp(cmd, "resume") != 0)
        return usage_error("--epochs is for resume (to change a new run's epochs: train.epochs=%s)", "N");
    if (a.checkpoint && strcmp(cmd, "sample") != 0)
        return usage_error("--checkpoint is for sample, encode and plot (%s)", a.checkpoint);
    if (!a.spec) return usage_error("missing %s", strcmp(cmd, "resume") == 0 || strcmp(cmd, "sample") == 0 ? "RUN_DIR" : "SPEC");
    if (strcmp(cmd, "validate") == 0) return command_validate(a.spec, a.overrides, a.n_overrides);
    if (a.origin && strcmp(cmd, "show") != 0) return usage_error("--origin is for show (%s)", "exprun show SPEC --origin");
    if (strcmp(cmd, "show") == 0) return command_show(a.spec, a.overrides, a.n_overrides, a.origin);
    char run_dir[4400];   /* results/NAME: its newest run (results/NAME/latest) */
    if (strcmp(cmd, "resume") == 0 || strcmp(cmd, "sample") == 0) a.spec = rundir_resolve(a.spec, run_dir, sizeof run_dir);
    if (strcmp(cmd, "resume") == 0) {
        if (a.n_overrides) return usage_error("resume takes no overrides: the run's spec is fixed (%s)", a.overrides[0]);
        return ranks_end(command_resume(a.spec, a.epochs, a.quiet, dist_is_root() && progress));
    }
    if (strcmp(cmd, "sample") == 0)
        return command_sample(a.spec, a.checkpoint, a.prime ? a.prime : "", a.length, a.temperature,
                              a.has_seed ? a.seed : 1);
    TrainOptions opt = {a.spec, a.overrides, a.n_overrides, a.out_dir, a.init_from, a.quiet, dist_is_root() && progress};
    return ranks_end(command_train(&opt));
}
