#include "version.h"

#include "git_version.h" /* generated at build time by cmake/gitversion.cmake */

const char *exprun_version(void) { return EXPRUN_VERSION; }
const char *exprun_git_commit(void) { return EXPRUN_GIT_COMMIT; }
int exprun_git_dirty(void) { return EXPRUN_GIT_DIRTY; }
