/* Incremental UTF-8 validation with a two-table DFA: each byte maps to one of 12 classes, and
 * (state, class) maps to the next state. Only validates; it never decodes code points. Runs of
 * ASCII between characters are skipped eight bytes at a time. */
#include "utf8.h"

#include <string.h>

/* Byte classes. The split of 80..BF into three ranges is what lets the second byte after E0, ED,
 * F0 and F4 be narrowed (RFC 3629 section 4, UTF8-3 and UTF8-4). */
enum {
    C_ASCII, /* 00..7F */
    C_CONT1, /* 80..8F */
    C_CONT2, /* 90..9F */
    C_CONT3, /* A0..BF */
    C_BAD,   /* C0, C1 (overlong 2-byte leads), F5..FF (beyond U+10FFFF or not UTF-8) */
    C_LEAD2, /* C2..DF */
    C_E0,    /* E0: second byte A0..BF, else overlong */
    C_LEAD3, /* E1..EC, EE, EF */
    C_ED,    /* ED: second byte 80..9F, else a surrogate */
    C_F0,    /* F0: second byte 90..BF, else overlong */
    C_LEAD4, /* F1..F3 */
    C_F4,    /* F4: second byte 80..8F, else beyond U+10FFFF */
    NCLASSES
};

/* States. ACCEPT and REJECT are fixed by the header; the rest say what the next byte may be. */
enum {
    S_ACC = PT_UTF8_ACCEPT,
    S_REJ = PT_UTF8_REJECT,
    S_T1, /* one continuation byte left, any of 80..BF */
    S_T2, /* two left, any */
    S_T3, /* after F1..F3: three left, any */
    S_E0, /* after E0: A0..BF, then one more */
    S_ED, /* after ED: 80..9F, then one more */
    S_F0, /* after F0: 90..BF, then two more */
    S_F4, /* after F4: 80..8F, then two more */
    NSTATES
};

/* clang-format off */
static const uint8_t byte_class[256] = {
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, /* 00 */
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, /* 10 */
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, /* 20 */
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, /* 30 */
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, /* 40 */
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, /* 50 */
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, /* 60 */
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, /* 70 */
     1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1, /* 80 */
     2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2, /* 90 */
     3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3, /* a0 */
     3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3, /* b0 */
     4,  4,  5,  5,  5,  5,  5,  5,  5,  5,  5,  5,  5,  5,  5,  5, /* c0 */
     5,  5,  5,  5,  5,  5,  5,  5,  5,  5,  5,  5,  5,  5,  5,  5, /* d0 */
     6,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  8,  7,  7, /* e0 */
     9, 10, 10, 10, 11,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4, /* f0 */
};

#define R S_REJ
static const uint8_t next_state[NSTATES][NCLASSES] = {
    /*           ASCII  CONT1  CONT2  CONT3  BAD    LEAD2  E0     LEAD3  ED     F0     LEAD4  F4 */
    [S_ACC]  = {S_ACC, R,     R,     R,     R,     S_T1,  S_E0,  S_T2,  S_ED,  S_F0,  S_T3,  S_F4},
    [S_REJ]  = {R,     R,     R,     R,     R,     R,     R,     R,     R,     R,     R,     R},
    [S_T1]   = {R,     S_ACC, S_ACC, S_ACC, R,     R,     R,     R,     R,     R,     R,     R},
    [S_T2]   = {R,     S_T1,  S_T1,  S_T1,  R,     R,     R,     R,     R,     R,     R,     R},
    [S_T3]   = {R,     S_T2,  S_T2,  S_T2,  R,     R,     R,     R,     R,     R,     R,     R},
    [S_E0]   = {R,     R,     R,     S_T1,  R,     R,     R,     R,     R,     R,     R,     R},
    [S_ED]   = {R,     S_T1,  S_T1,  R,     R,     R,     R,     R,     R,     R,     R,     R},
    [S_F0]   = {R,     R,     S_T2,  S_T2,  R,     R,     R,     R,     R,     R,     R,     R},
    [S_F4]   = {R,     S_T2,  R,     R,     R,     R,     R,     R,     R,     R,     R,     R},
};
#undef R
/* clang-format on */

#define HIGH_BITS 0x8080808080808080ULL

uint32_t pt_utf8_feed(uint32_t state, const uint8_t *p, size_t n)
{
    size_t i = 0;
    uint64_t w;

    /* A state this module never returns is treated as invalid rather than indexing past the
     * table. */
    if (state >= NSTATES)
        return PT_UTF8_REJECT;
    while (i < n) {
        if (state == S_ACC) {
            while (n - i >= 8) {
                memcpy(&w, p + i, sizeof(w));
                if ((w & HIGH_BITS) != 0)
                    break;
                i += 8;
            }
            if (i == n)
                break;
        }
        state = next_state[state][byte_class[p[i]]];
        if (state == S_REJ)
            return PT_UTF8_REJECT;
        i++;
    }
    return state;
}
