/* version.h — the exprun version and the git commit it was built from. */
#ifndef EXPRUN_VERSION_H
#define EXPRUN_VERSION_H
const char *exprun_version(void);
const char *exprun_git_commit(void);
#endif
