/* The config walker: a table of fields per JSON object. One walker checks types, ranges, enum
 * values and required keys, refuses unknown keys, and reports every error with its JSON path
 * (house style 3.10). Backends parse their own integration block with it. */
#ifndef PORTICO_CONF_H
#define PORTICO_CONF_H

#include <stdbool.h>
#include <stddef.h>

struct cJSON;
struct pt_errors;

enum pt_conf_type {
    PT_CONF_INT,   /* long long at offset; min..max inclusive */
    PT_CONF_BOOL,  /* bool at offset */
    PT_CONF_STR,   /* char * at offset, owned (pt_xstrdup); NULL when absent and no def_str */
    PT_CONF_ENUM,  /* int at offset: the index of the value in enum_values */
    PT_CONF_ANY,   /* nothing stored: the caller reads this key itself (objects, arrays) */
};

struct pt_conf_field {
    const char *key; /* JSON key exactly as the SPEC spells it */
    enum pt_conf_type type;
    size_t offset;                  /* offsetof(target struct, member); unused for ANY */
    long long min, max;             /* INT bounds, inclusive */
    long long def;                  /* INT/BOOL/ENUM default when absent */
    const char *def_str;            /* STR default when absent (copied), may be NULL */
    const char *const *enum_values; /* ENUM: NULL-terminated list of accepted strings */
    bool required;
};

/* Walks <obj> (which must be a JSON object, else one error) at JSON path <path> against <fields>
 * (terminated by an entry with key NULL), filling the struct at <target>. Keys not in <fields>
 * and keys listed in <ignore> (NULL-terminated, may be NULL) are, respectively, an error
 * ("unknown key") and skipped. Defaults are stored for absent keys. Returns the number of errors
 * added to <errs>. */
int pt_conf_walk(const struct cJSON *obj, const char *path, const struct pt_conf_field *fields,
                 void *target, const char *const *ignore, struct pt_errors *errs);

/* Frees the STR members <fields> stored in <target>. */
void pt_conf_release(const struct pt_conf_field *fields, void *target);

/* JSON path helpers: writes "<path>.<key>" (or "<path>[\"<key>\"]" when key is not an
 * identifier, e.g. "$connect") and "<path>[<i>]" into out. */
void pt_conf_path_key(char *out, size_t outlen, const char *path, const char *key);
void pt_conf_path_index(char *out, size_t outlen, const char *path, size_t i);

#endif
