/* Worker mailboxes (see mailbox.h). */
#include "mailbox.h"

#include <stdlib.h>

#include "portico/xalloc.h"
#include "worker.h"

struct mail {
    pt_mail_fn *fn;
    void *arg;
    struct mail *next;
};

static size_t deliver(struct pt_mailbox *mb, struct pt_worker *w)
{
    struct mail *list, *next;
    size_t n = 0;

    pthread_mutex_lock(&mb->lock);
    list = mb->head;
    mb->head = mb->tail = NULL;
    pthread_mutex_unlock(&mb->lock);
    for (; list != NULL; list = next) {
        next = list->next;
        list->fn(w, list->arg);
        free(list);
        n++;
    }
    return n;
}

size_t pt_mailbox_run(struct pt_mailbox *mb, struct pt_worker *w)
{
    return deliver(mb, w);
}

static void on_wake(struct ev_loop *loop, ev_async *a, int revents)
{
    struct pt_worker *w = a->data;

    deliver(&w->mailbox, w);
}

void pt_mailbox_init(struct pt_mailbox *mb, struct ev_loop *loop, struct pt_worker *w)
{
    pthread_mutex_init(&mb->lock, NULL);
    mb->head = mb->tail = NULL;
    ev_async_init(&mb->wake, on_wake);
    mb->wake.data = w;
    ev_async_start(loop, &mb->wake);
}

void pt_mailbox_cleanup(struct pt_mailbox *mb, struct ev_loop *loop, struct pt_worker *w)
{
    deliver(mb, w);
    ev_async_stop(loop, &mb->wake);
    pthread_mutex_destroy(&mb->lock);
}

void pt_mailbox_post(struct pt_worker *to, pt_mail_fn *fn, void *arg)
{
    struct pt_mailbox *mb = &to->mailbox;
    struct mail *m = pt_xmalloc(sizeof(*m));

    m->fn = fn;
    m->arg = arg;
    m->next = NULL;
    pthread_mutex_lock(&mb->lock);
    if (mb->tail != NULL)
        mb->tail->next = m;
    else
        mb->head = m;
    mb->tail = m;
    pthread_mutex_unlock(&mb->lock);
    ev_async_send(to->loop, &mb->wake);
}
