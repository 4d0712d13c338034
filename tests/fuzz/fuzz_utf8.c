/* libFuzzer target: UTF-8 validation (hub/utf8.c). Feeding the input whole, byte by byte and in
 * pseudo-random splits must end in the same state, and the verdict must match a plain decoder
 * written independently here. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int cond)
{
    if (!cond)
        abort();
}

enum verdict { VALID, INVALID, TRUNCATED };

/* Whether [lo, hi] holds a code point that is at least <min>, at most U+10FFFF and not a
 * surrogate. */
static bool any_valid(uint32_t lo, uint32_t hi, uint32_t min)
{
    lo = lo < min ? min : lo;
    hi = hi > 0x10ffff ? 0x10ffff : hi;
    return lo <= hi && !(lo >= 0xd800 && hi <= 0xdfff);
}

/* Decodes sequence by sequence; an input cut inside a character is TRUNCATED only if some
 * continuation could still make that character valid. */
static enum verdict reference(const uint8_t *p, size_t n)
{
    size_t i = 0, k, more, bits;
    uint32_t cp, min;

    while (i < n) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        if ((p[i] & 0xe0) == 0xc0)
            more = 1, cp = p[i] & 0x1fu, min = 0x80;
        else if ((p[i] & 0xf0) == 0xe0)
            more = 2, cp = p[i] & 0x0fu, min = 0x800;
        else if ((p[i] & 0xf8) == 0xf0)
            more = 3, cp = p[i] & 0x07u, min = 0x10000;
        else
            return INVALID;
        for (k = 1; k <= more; k++) {
            if (i + k == n) {
                bits = 6 * (more - k + 1);
                return any_valid(cp << bits, (cp << bits) | ((1u << bits) - 1), min) ? TRUNCATED
                                                                                     : INVALID;
            }
            if ((p[i + k] & 0xc0) != 0x80)
                return INVALID;
            cp = (cp << 6) | (p[i + k] & 0x3fu);
        }
        if (!any_valid(cp, cp, min))
            return INVALID;
        i += more + 1;
    }
    return VALID;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t whole, st, seed = 2166136261u;
    enum verdict v;
    size_t i, k;

    whole = pt_utf8_feed(PT_UTF8_ACCEPT, data, size);

    st = PT_UTF8_ACCEPT;
    for (i = 0; i < size; i++)
        st = pt_utf8_feed(st, data + i, 1);
    require(st == whole);

    /* Splits from a generator seeded by the input, so a crash replays exactly. */
    for (i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 16777619u;
    st = PT_UTF8_ACCEPT;
    for (i = 0; i < size; i += k) {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        k = 1 + seed % 23;
        if (k > size - i)
            k = size - i;
        st = pt_utf8_feed(st, data + i, k);
    }
    require(st == whole);

    /* Split once in the middle, with an empty feed between. */
    st = pt_utf8_feed(PT_UTF8_ACCEPT, data, size / 2);
    st = pt_utf8_feed(st, data, 0);
    require(pt_utf8_feed(st, data + size / 2, size - size / 2) == whole);

    v = reference(data, size);
    require(v == (whole == PT_UTF8_ACCEPT ? VALID : whole == PT_UTF8_REJECT ? INVALID : TRUNCATED));
    return 0;
}
