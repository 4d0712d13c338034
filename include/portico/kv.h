/* A name/value pair of borrowed strings: headers, query parameters, stage variables. */
#ifndef PORTICO_KV_H
#define PORTICO_KV_H

struct pt_kv {
    const char *name;
    const char *value;
};

#endif
