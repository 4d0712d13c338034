/* The JSONPath subset of selection expressions and templates: "a.b[0].c" into a parsed message,
 * and the way AWS turns the value found into text. Pure: no I/O, no loop, no allocation of its
 * own beyond <out>. */
#ifndef PT_JSONPATH_H
#define PT_JSONPATH_H

#include <stddef.h>

struct cJSON;
struct pt_buf;

/* Deepest nesting pt_jsonpath_stringify() prints; deeper values are printed as a null is. */
#define PT_JSONPATH_MAX_DEPTH 64

/* Returns the node of <root> at <path> (<len> bytes, not NUL-terminated), borrowed from <root>,
 * or NULL when it is absent or <path> is malformed.
 *
 * A path is keys separated by dots, each optionally followed by array indexes: "a.b[0].c",
 * "list[2][0]". It may also start with an index ("[0].a") or with one dot (".a", so a caller can
 * pass what follows "request.body"). The empty path is <root> itself. Keys match exactly (case
 * too) and run to the next '.' or '['; an index is decimal digits in brackets. Malformed: an
 * empty key ("a..b", "a."), a bracket without digits or its ']', anything after ']' but '.' or
 * '['. A key on a non-object, or an index on a non-array, finds nothing. <root> may be NULL. */
const struct cJSON *pt_jsonpath_get(const struct cJSON *root, const char *path, size_t len);

/* Appends <node> to <out> as AWS stringifies a route-selection result:
 *   string -> its raw text (no quotes, no escaping)
 *   number -> its JSON text; integers without a decimal point (5 -> "5", 1.5 -> "1.5")
 *   true, false -> "true", "false"
 *   null (and a NULL node) -> nothing
 *   object -> compact JSON: {"a":1,"b":[1,2]}
 *   array -> "[item1, item2]", each item stringified by these same rules ("[1, two]")
 * Nesting deeper than PT_JSONPATH_MAX_DEPTH is cut: such a value prints as a null would ("null"
 * inside JSON, nothing inside "[...]"), so a hostile message costs no deep recursion. */
void pt_jsonpath_stringify(const struct cJSON *node, struct pt_buf *out);

#endif
