/* Incremental UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF),
 * so a text message split over frames and reads is checked as one stream. Pure. */
#ifndef PT_UTF8_H
#define PT_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define PT_UTF8_ACCEPT 0u /* the state between characters: all valid so far */
#define PT_UTF8_REJECT 1u /* invalid; stays rejected */

/* Feeds <n> bytes to a validator in <state> (start with PT_UTF8_ACCEPT) and returns the new
 * state: PT_UTF8_ACCEPT, PT_UTF8_REJECT, or another value meaning "inside a character". A
 * message is valid when the final state is PT_UTF8_ACCEPT. */
uint32_t pt_utf8_feed(uint32_t state, const uint8_t *p, size_t n);

#endif
