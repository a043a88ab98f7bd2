#include "version.h"

const char *exprun_version(void) { return EXPRUN_VERSION; }
const char *exprun_git_commit(void) { return EXPRUN_GIT_COMMIT; }
