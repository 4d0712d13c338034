/* Logging: one line per event to stderr. The level is tested before the arguments are evaluated. */
#ifndef PORTICO_LOG_H
#define PORTICO_LOG_H

enum pt_log_level {
    PT_LOG_ERR = 0,  /* an operator must act */
    PT_LOG_WARN = 1, /* a failure Portico handled */
    PT_LOG_INFO = 2, /* lifecycle */
    PT_LOG_DEBUG = 3,
};

extern int pt_log_level;

void pt_log_emit(int level, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define pt_log(level, tag, ...)                       \
    do {                                              \
        if ((level) <= pt_log_level)                  \
            pt_log_emit((level), (tag), __VA_ARGS__); \
    } while (0)

#endif
