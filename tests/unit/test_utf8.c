/* Unit tests for hub/utf8.c: stress cases in the spirit of Markus Kuhn's UTF-8 test file (written
 * here from the RFC 3629 rules, not copied), exhaustive comparison with a plain decoder for all
 * inputs of up to three bytes, and feeding the same bytes in every possible split. */
#include "utf8.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"

/* Outcome of a whole input, so that intermediate states need not be compared by value. */
enum verdict { VALID, INVALID, TRUNCATED };

static enum verdict verdict_of(uint32_t state)
{
    if (state == PT_UTF8_ACCEPT)
        return VALID;
    if (state == PT_UTF8_REJECT)
        return INVALID;
    return TRUNCATED;
}

static enum verdict feed_all(const uint8_t *p, size_t n)
{
    return verdict_of(pt_utf8_feed(PT_UTF8_ACCEPT, p, n));
}

static enum verdict feed_str(const char *s)
{
    return feed_all((const uint8_t *)s, strlen(s));
}

/* Whether some code point in [lo, hi] is a valid one of at least <min>. */
static bool range_has_valid(uint32_t lo, uint32_t hi, uint32_t min)
{
    if (lo < min)
        lo = min;
    if (hi > 0x10ffff)
        hi = 0x10ffff;
    return lo <= hi && !(lo >= 0xd800 && hi <= 0xdfff);
}

/* A decoder written the obvious way, as an independent reference. An input that ends inside a
 * character is TRUNCATED only if some continuation could still make it valid. */
static enum verdict reference(const uint8_t *p, size_t n)
{
    size_t i = 0, k, need, rest;
    uint32_t cp, min;

    while (i < n) {
        uint8_t b = p[i];

        if (b < 0x80) {
            i++;
            continue;
        }
        if (b >= 0xc0 && b < 0xe0) {
            need = 1, cp = b & 0x1f, min = 0x80;
        } else if (b >= 0xe0 && b < 0xf0) {
            need = 2, cp = b & 0x0f, min = 0x800;
        } else if (b >= 0xf0 && b < 0xf8) {
            need = 3, cp = b & 0x07, min = 0x10000;
        } else {
            return INVALID;
        }
        for (k = 1; k <= need; k++) {
            if (i + k == n) {
                rest = 6 * (need - k + 1);
                return range_has_valid(cp << rest, cp << rest | ((1u << rest) - 1), min) ? TRUNCATED
                                                                                         : INVALID;
            }
            if ((p[i + k] & 0xc0) != 0x80)
                return INVALID;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if (!range_has_valid(cp, cp, min))
            return INVALID;
        i += need + 1;
    }
    return VALID;
}

/* Feeds <p> split at every position, and one byte at a time; all must agree with the whole. */
static void check_splits(const uint8_t *p, size_t n)
{
    uint32_t whole = pt_utf8_feed(PT_UTF8_ACCEPT, p, n), st;
    size_t i;

    for (i = 0; i <= n; i++) {
        st = pt_utf8_feed(PT_UTF8_ACCEPT, p, i);
        st = pt_utf8_feed(st, p + i, n - i);
        CHECK_EQ_INT(st, whole);
    }
    st = PT_UTF8_ACCEPT;
    for (i = 0; i < n; i++)
        st = pt_utf8_feed(st, p + i, 1);
    CHECK_EQ_INT(st, whole);
}

static void test_valid_boundaries(void)
{
    static const char *const valid[] = {
        "",
        "plain ASCII, long enough to use the eight-byte path",
        "\x01\x7f",
        "\xc2\x80",                                     /* U+0080, first 2-byte */
        "\xdf\xbf",                                     /* U+07FF, last 2-byte */
        "\xe0\xa0\x80",                                 /* U+0800, first 3-byte */
        "\xed\x9f\xbf",                                 /* U+D7FF, just below the surrogates */
        "\xee\x80\x80",                                 /* U+E000, just above them */
        "\xef\xbf\xbd",                                 /* U+FFFD */
        "\xef\xbf\xbf",                                 /* U+FFFF, last 3-byte */
        "\xf0\x90\x80\x80",                             /* U+10000, first 4-byte */
        "\xf3\xbf\xbf\xbf",                             /* U+FFFFF */
        "\xf4\x8f\xbf\xbf",                             /* U+10FFFF, the last code point */
        "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", /* Greek "kosme" */
        "caf\xc3\xa9 \xe2\x82\xac 5 \xf0\x9f\x98\x80 done....", /* mixed widths */
    };
    size_t i;

    CHECK_EQ_INT(feed_all((const uint8_t *)"\0", 1), VALID); /* U+0000 is a character too */
    for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        CHECK_EQ_INT(reference((const uint8_t *)valid[i], strlen(valid[i])), VALID);
        CHECK_EQ_INT(feed_str(valid[i]), VALID);
        check_splits((const uint8_t *)valid[i], strlen(valid[i]));
    }
}

static void test_invalid_classes(void)
{
    static const char *const invalid[] = {
        "\x80",
        "\xbf",
        "\x80\xbf\x80", /* lone continuation bytes */
        "\xc2 ",
        "\xe1\x80 ",
        "\xf1\x80\x80 ", /* lead bytes followed by a space */
        "\xfe",
        "\xff",
        "\xfe\xfe\xff\xff", /* never in UTF-8 */
        "\xc0\xaf",
        "\xc1\xbf", /* 2-byte overlongs */
        "\xe0\x80\xaf",
        "\xe0\x9f\xbf", /* 3-byte overlongs */
        "\xf0\x80\x80\xaf",
        "\xf0\x8f\xbf\xbf", /* 4-byte overlongs */
        "\xed\xa0\x80",
        "\xed\xad\xbf",
        "\xed\xae\x80",
        "\xed\xaf\xbf", /* high surrogates */
        "\xed\xb0\x80",
        "\xed\xbe\x80",
        "\xed\xbf\xbf",             /* low surrogates */
        "\xed\xa0\x80\xed\xb0\x80", /* a surrogate pair */
        "\xf4\x90\x80\x80",
        "\xf5\x80\x80\x80",
        "\xf7\xbf\xbf\xbf", /* above U+10FFFF */
        "\xf8\x88\x80\x80\x80",
        "\xfc\x84\x80\x80\x80\x80", /* 5- and 6-byte forms */
        "\xc0\x80",                 /* overlong NUL */
        "\xef\xbf\xbf\xbf",         /* one byte too many */
        "ok so far\xe2\x82!",       /* cut short by ASCII */
    };
    size_t i;

    for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        CHECK_EQ_INT(reference((const uint8_t *)invalid[i], strlen(invalid[i])), INVALID);
        CHECK_EQ_INT(feed_str(invalid[i]), INVALID);
        check_splits((const uint8_t *)invalid[i], strlen(invalid[i]));
    }
}

static void test_truncated_at_end(void)
{
    static const char *const truncated[] = {
        "\xc2",         "\xdf",         "\xe0\xa0",    "\xe1", "\xed\x9f", "\xf0\x90",
        "\xf0\x90\x80", "\xf4\x8f\xbf", "abc\xe2\x82", "\xf3", "\xef\xbf", "x\xf1\x80\x80",
    };
    size_t i;

    for (i = 0; i < sizeof(truncated) / sizeof(truncated[0]); i++) {
        CHECK_EQ_INT(reference((const uint8_t *)truncated[i], strlen(truncated[i])), TRUNCATED);
        CHECK_EQ_INT(feed_str(truncated[i]), TRUNCATED);
        check_splits((const uint8_t *)truncated[i], strlen(truncated[i]));
    }
    /* Prefixes that already decide the outcome are rejected at once, not left pending. */
    CHECK_EQ_INT(feed_str("\xe0\x80"), INVALID);
    CHECK_EQ_INT(feed_str("\xed\xa0"), INVALID);
    CHECK_EQ_INT(feed_str("\xf0\x80"), INVALID);
    CHECK_EQ_INT(feed_str("\xf4\x90"), INVALID);
    /* Two truncated characters back to back: the second lead byte breaks the first. */
    CHECK_EQ_INT(feed_str("\xe2\x82\xe2\x82"), INVALID);
}

static void test_reject_is_sticky(void)
{
    uint32_t st = pt_utf8_feed(PT_UTF8_ACCEPT, (const uint8_t *)"\xff", 1);

    CHECK_EQ_INT(st, PT_UTF8_REJECT);
    st = pt_utf8_feed(st, (const uint8_t *)"valid ASCII text of some length", 31);
    CHECK_EQ_INT(st, PT_UTF8_REJECT);
    st = pt_utf8_feed(st, NULL, 0);
    CHECK_EQ_INT(st, PT_UTF8_REJECT);
    /* A state the module never hands out is not trusted. */
    CHECK_EQ_INT(pt_utf8_feed(0xdeadbeefu, (const uint8_t *)"a", 1), PT_UTF8_REJECT);
}

/* The eight-byte ASCII path must notice a bad byte or a character in any lane. */
static void test_ascii_fast_path_lanes(void)
{
    uint8_t buf[64];
    size_t pos;

    for (pos = 0; pos < 40; pos++) {
        memset(buf, 'a', sizeof(buf));
        buf[pos] = 0x80;
        CHECK_EQ_INT(feed_all(buf, sizeof(buf)), INVALID);
        buf[pos] = 0xc3;
        buf[pos + 1] = 0xa9;
        CHECK_EQ_INT(feed_all(buf, sizeof(buf)), VALID);
        buf[pos] = 0xf0;
        buf[pos + 1] = 0x9f;
        buf[pos + 2] = 0x98;
        buf[pos + 3] = 0x80;
        CHECK_EQ_INT(feed_all(buf, sizeof(buf)), VALID);
        buf[pos + 3] = 'a';
        CHECK_EQ_INT(feed_all(buf, sizeof(buf)), INVALID);
        /* Truncated just at the end of the buffer, after a long ASCII run. */
        CHECK_EQ_INT(feed_all(buf, pos + 3), TRUNCATED);
    }
}

static void test_exhaustive_short_inputs(void)
{
    uint8_t b[3];
    unsigned x;
    long long mismatches = 0;

    for (x = 0; x < 256; x++) {
        b[0] = (uint8_t)x;
        mismatches += feed_all(b, 1) != reference(b, 1);
    }
    for (x = 0; x < 1u << 16; x++) {
        b[0] = (uint8_t)(x >> 8), b[1] = (uint8_t)x;
        mismatches += feed_all(b, 2) != reference(b, 2);
    }
    for (x = 0; x < 1u << 24; x++) {
        b[0] = (uint8_t)(x >> 16), b[1] = (uint8_t)(x >> 8), b[2] = (uint8_t)x;
        /* Most of the space is ASCII-led; those are covered by the shorter loops. */
        if (b[0] < 0x80 && b[1] < 0x80)
            continue;
        mismatches += feed_all(b, 3) != reference(b, 3);
    }
    CHECK_EQ_INT(mismatches, 0);
}

/* Every code point, encoded by hand: valid except the surrogates. */
static void test_every_code_point(void)
{
    uint8_t b[4];
    uint32_t cp;
    size_t n;
    long long wrong = 0;

    for (cp = 0; cp <= 0x10ffff; cp++) {
        if (cp < 0x80) {
            b[0] = (uint8_t)cp, n = 1;
        } else if (cp < 0x800) {
            b[0] = (uint8_t)(0xc0 | cp >> 6), b[1] = (uint8_t)(0x80 | (cp & 0x3f)), n = 2;
        } else if (cp < 0x10000) {
            b[0] = (uint8_t)(0xe0 | cp >> 12), b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
            b[2] = (uint8_t)(0x80 | (cp & 0x3f)), n = 3;
        } else {
            b[0] = (uint8_t)(0xf0 | cp >> 18), b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
            b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f)), b[3] = (uint8_t)(0x80 | (cp & 0x3f));
            n = 4;
        }
        wrong += feed_all(b, n) != ((cp >= 0xd800 && cp <= 0xdfff) ? INVALID : VALID);
    }
    CHECK_EQ_INT(wrong, 0);
}

/* Four-byte sequences led by F0..F7, against the reference. */
static void test_four_byte_leads(void)
{
    uint8_t b[4];
    unsigned lead, x;
    long long mismatches = 0;

    for (lead = 0xf0; lead < 0xf8; lead++) {
        for (x = 0; x < 1u << 24; x += 7) {
            b[0] = (uint8_t)lead, b[1] = (uint8_t)(x >> 16), b[2] = (uint8_t)(x >> 8);
            b[3] = (uint8_t)x;
            mismatches += feed_all(b, 4) != reference(b, 4);
        }
    }
    CHECK_EQ_INT(mismatches, 0);
}

int main(void)
{
    RUN(test_valid_boundaries);
    RUN(test_invalid_classes);
    RUN(test_truncated_at_end);
    RUN(test_reject_is_sticky);
    RUN(test_ascii_fast_path_lanes);
    RUN(test_exhaustive_short_inputs);
    RUN(test_every_code_point);
    RUN(test_four_byte_leads);
    return harness_finish("test_utf8");
}
