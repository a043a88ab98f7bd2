/* version.h — the exprun version and the git commit it was built from. */
#ifndef EXPRUN_VERSION_H
#define EXPRUN_VERSION_H
const char *exprun_version(void);
const char *exprun_git_commit(void);
/* 1 if the tree had uncommitted changes to tracked files at build time, 0 if clean, −1 unknown. */
int exprun_git_dirty(void);
#endif
