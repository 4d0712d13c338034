/* A worker's mailbox: the one way into another worker. Any thread posts a function and its
 * argument; the owning worker runs them on its loop, in order, woken by an ev_async. Nothing
 * else is shared between workers on the per-message path. */
#ifndef PT_MAILBOX_H
#define PT_MAILBOX_H

#include <pthread.h>

#include <ev.h>

struct pt_worker;
struct mail;

typedef void pt_mail_fn(struct pt_worker *w, void *arg);

struct pt_mailbox {
    pthread_mutex_t lock;
    struct mail *head, *tail; /* under lock */
    ev_async wake;
};

void pt_mailbox_init(struct pt_mailbox *mb, struct ev_loop *loop, struct pt_worker *w);
/* Runs what is left (so that every argument is freed by its function), then stops. */
void pt_mailbox_cleanup(struct pt_mailbox *mb, struct ev_loop *loop, struct pt_worker *w);

/* Runs what has arrived, now (at shutdown, once the loops have stopped); returns how much. */
size_t pt_mailbox_run(struct pt_mailbox *mb, struct pt_worker *w);

/* From any thread: <fn>(to, arg) will run on <to>'s loop. <arg> changes hands. */
void pt_mailbox_post(struct pt_worker *to, pt_mail_fn *fn, void *arg);

#endif
