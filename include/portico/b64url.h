/* The base64url alphabet (RFC 4648 section 5), shared by connection IDs and JWTs. */
#ifndef PORTICO_B64URL_H
#define PORTICO_B64URL_H

/* The 6-bit value of base64url character <c>, or -1 for any other byte (padding included). */
static inline int pt_b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

#endif
