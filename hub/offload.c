/* The offload pool (see include/portico/offload.h): two helper threads shared by every worker
 * take jobs from one queue; finished jobs go back to their worker's completion queue, which an
 * ev_async drains on that worker's loop. */
#include "offload.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "call.h"
#include "portico/xalloc.h"
#include "worker.h"

#define POOL_THREADS 2

struct pt_offload {
    struct pt_offload_queue *q;
    pt_offload_fn *work, *done, *discard;
    void *arg;
    bool cancelled; /* loop side only */
    struct pt_offload *next;
};

struct pt_offload_queue {
    struct ev_loop *loop;
    ev_async wake;
    struct pt_offload *finished; /* under pool.lock */
    unsigned running;            /* jobs submitted and not yet back; under pool.lock */
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* a job was queued */
    pthread_cond_t idle; /* a job finished (for queue_free) */
    struct pt_offload *todo, *todo_tail;
    bool started;
    bool stop;
    pthread_t threads[POOL_THREADS];
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER};

static void *pool_main(void *arg)
{
    struct pt_offload *job;

    for (;;) {
        pthread_mutex_lock(&pool.lock);
        while (pool.todo == NULL && !pool.stop)
            pthread_cond_wait(&pool.cond, &pool.lock);
        if (pool.todo == NULL) {
            pthread_mutex_unlock(&pool.lock);
            return NULL; /* stopping, and nothing left to do */
        }
        job = pool.todo;
        pool.todo = job->next;
        if (pool.todo == NULL)
            pool.todo_tail = NULL;
        pthread_mutex_unlock(&pool.lock);

        job->work(job->arg);

        pthread_mutex_lock(&pool.lock);
        job->next = job->q->finished;
        job->q->finished = job;
        pthread_cond_broadcast(&pool.idle);
        pthread_mutex_unlock(&pool.lock);
        ev_async_send(job->q->loop, &job->q->wake);
    }
    return NULL;
}

/* Runs on the loop: hands every finished job to its done or discard function. */
static void drain(struct pt_offload_queue *q)
{
    struct pt_offload *list, *next;

    pthread_mutex_lock(&pool.lock);
    list = q->finished;
    q->finished = NULL;
    pthread_mutex_unlock(&pool.lock);
    for (; list != NULL; list = next) {
        next = list->next;
        pthread_mutex_lock(&pool.lock);
        q->running--;
        pthread_mutex_unlock(&pool.lock);
        if (list->cancelled)
            list->discard(list->arg);
        else
            list->done(list->arg);
        free(list);
    }
}

static void on_wake(struct ev_loop *loop, ev_async *a, int revents)
{
    drain(a->data);
}

struct pt_offload_queue *pt_offload_queue_new(struct ev_loop *loop)
{
    struct pt_offload_queue *q = pt_xcalloc(1, sizeof(*q));
    int i;

    q->loop = loop;
    ev_async_init(&q->wake, on_wake);
    q->wake.data = q;
    ev_async_start(loop, &q->wake);
    pthread_mutex_lock(&pool.lock);
    if (!pool.started) {
        pool.started = true;
        for (i = 0; i < POOL_THREADS; i++) {
            if (pthread_create(&pool.threads[i], NULL, pool_main, NULL) != 0) {
                fprintf(stderr, "portico: cannot start an offload thread\n");
                abort();
            }
        }
    }
    pthread_mutex_unlock(&pool.lock);
    return q;
}

void pt_offload_queue_free(struct pt_offload_queue *q)
{
    struct pt_offload *job, **pp, *mine = NULL;

    if (q == NULL)
        return;
    /* Jobs no thread has taken yet are discarded; running ones are waited for. */
    pthread_mutex_lock(&pool.lock);
    pool.todo_tail = NULL;
    for (pp = &pool.todo; (job = *pp) != NULL;) {
        if (job->q == q) {
            *pp = job->next;
            job->next = mine;
            mine = job;
            q->running--;
        } else {
            pool.todo_tail = job;
            pp = &job->next;
        }
    }
    pthread_mutex_unlock(&pool.lock);
    for (; mine != NULL; mine = job) {
        job = mine->next;
        mine->discard(mine->arg);
        free(mine);
    }
    for (;;) {
        drain(q);
        pthread_mutex_lock(&pool.lock);
        if (q->running == 0) {
            pthread_mutex_unlock(&pool.lock);
            break;
        }
        if (q->finished == NULL)
            pthread_cond_wait(&pool.idle, &pool.lock);
        pthread_mutex_unlock(&pool.lock);
    }
    ev_async_stop(q->loop, &q->wake);
    free(q);
}

struct pt_offload *pt_offload_submit(struct pt_offload_queue *q, pt_offload_fn *work,
                                     pt_offload_fn *done, pt_offload_fn *discard, void *arg)
{
    struct pt_offload *job = pt_xcalloc(1, sizeof(*job));

    job->q = q;
    job->work = work;
    job->done = done;
    job->discard = discard;
    job->arg = arg;
    pthread_mutex_lock(&pool.lock);
    q->running++;
    if (pool.todo_tail != NULL)
        pool.todo_tail->next = job;
    else
        pool.todo = job;
    pool.todo_tail = job;
    pthread_cond_signal(&pool.cond);
    pthread_mutex_unlock(&pool.lock);
    return job;
}

struct pt_offload *pt_offload_start(struct pt_call *call, pt_offload_fn *work, pt_offload_fn *done,
                                    pt_offload_fn *discard, void *arg)
{
    return pt_offload_submit(((struct pt_callx *)call)->w->offload, work, done, discard, arg);
}

void pt_offload_cancel(struct pt_offload *job)
{
    job->cancelled = true;
}

void pt_offload_shutdown(void)
{
    int i;

    pthread_mutex_lock(&pool.lock);
    if (!pool.started) {
        pthread_mutex_unlock(&pool.lock);
        return;
    }
    pool.stop = true;
    pthread_cond_broadcast(&pool.cond);
    pthread_mutex_unlock(&pool.lock);
    for (i = 0; i < POOL_THREADS; i++)
        pthread_join(pool.threads[i], NULL);
    pool.started = false;
    pool.stop = false;
}
