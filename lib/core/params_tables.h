/* The tables themselves (params_table.c), for params.c. */
#ifndef FF_CORE_PARAMS_TABLES_H
#define FF_CORE_PARAMS_TABLES_H

#include "core/params.h"

typedef struct ff_param_table {
    int32_t kind;       /* enum ff_object_kind */
    const char *what;   /* "flow option", for messages */
    const char *api;    /* "ff_flow_options": the setters' prefix, for messages */
    const ff_param_desc *rows;
    int32_t count;
} ff_param_table;

extern const ff_param_table ff_param_tables[];
extern const int32_t ff_param_table_count;

#endif
