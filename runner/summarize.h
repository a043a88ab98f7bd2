/* summarize.h — `exprun summarize DIR... [--csv] [--sort [-]COLUMN] [--group-by[=KEYS]]`: one
 * table of the runs under some folders (runsummary.h reads them, sumtable.h makes the table). */
#ifndef EXPRUN_SUMMARIZE_H
#define EXPRUN_SUMMARIZE_H

/* argv holds the arguments after "summarize". */
int command_summarize(int argc, char **argv);

#endif
