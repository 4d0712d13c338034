/* Error codes shared by the hub and the backends: 0 or a negative PT_E* code, from one table. */
#ifndef PORTICO_ERR_H
#define PORTICO_ERR_H

#define PT_ERR_MAP(X)                      \
    X(OK, 0, "success")                    \
    X(EINVAL, -2, "invalid argument")      \
    X(ENOMEM, -3, "out of memory")         \
    X(EAGAIN, -4, "try again later")       \
    X(ETIMEDOUT, -5, "timed out")          \
    X(ECANCELED, -6, "canceled")           \
    X(ELIMIT, -7, "limit exceeded")        \
    X(ENOTFOUND, -8, "not found")          \
    X(EGONE, -9, "gone")                   \
    X(EUPSTREAM, -10, "upstream failure")  \
    X(EPROTO, -11, "protocol error")       \
    X(EAUTH, -12, "authentication failed") \
    X(ETOOBIG, -13, "too large")           \
    X(EUNAVAILABLE, -14, "cluster unavailable")

enum pt_err {
#define X(name, val, msg) PT_##name = val,
    PT_ERR_MAP(X)
#undef X
};

/* The message of code <err>; never NULL. */
const char *pt_strerror(int err);

#endif
