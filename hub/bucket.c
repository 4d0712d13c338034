/* Token buckets as GCRA (see bucket.h). */
#include "bucket.h"

#include <math.h>

bool pt_bucket_take(struct pt_bucket *b, const struct pt_rate *r, int64_t now_ns)
{
    double interval;
    int64_t step, limit, old, tat, next;

    if (!(r->per_second > 0) || r->burst <= 0)
        return false;
    interval = 1e9 / r->per_second;
    step = interval < 1.0 ? 1 : (int64_t)llround(interval);
    /* burst tokens may be taken at once: the schedule may run burst steps ahead of now */
    limit = (double)r->burst * (double)step > 9e18 ? INT64_MAX / 2 : r->burst * step;
    old = __atomic_load_n(&b->tat_ns, __ATOMIC_RELAXED);
    do {
        tat = old > now_ns ? old : now_ns;
        next = tat + step;
        if (next - now_ns > limit)
            return false;
    } while (!__atomic_compare_exchange_n(&b->tat_ns, &old, next, true, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
    return true;
}
