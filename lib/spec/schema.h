/* schema.h — the schema of exprun specs (schema.c holds the table). */
#ifndef EXPRUN_SCHEMA_H
#define EXPRUN_SCHEMA_H

#include "spec/cfg.h"

extern const Schema SPEC_SCHEMA;

#endif
