/* TLS on listeners with OpenSSL 3: TLS 1.2 and 1.3 only, certificate and key from the config,
 * ALPN choosing h2 or http/1.1, and non-blocking reads and writes for the connection layer. */
#ifndef PT_TLS_H
#define PT_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

/* A server context for <cert> (a PEM chain) and <key>. Reads the files: call before the loop
 * runs or off it. Returns NULL with a message in <err>. */
SSL_CTX *pt_tls_ctx_new(const char *cert, const char *key, bool http2, char *err, size_t errlen);
void pt_tls_ctx_free(SSL_CTX *ctx);

/* Results of the I/O functions below besides a byte count. */
#define PT_TLS_AGAIN_READ  (-1) /* wait until the socket is readable */
#define PT_TLS_AGAIN_WRITE (-2) /* wait until the socket is writable */
#define PT_TLS_ERROR       (-3) /* the connection is broken */

/* A server-side TLS session on socket <fd>. */
SSL *pt_tls_new(SSL_CTX *ctx, int fd);
void pt_tls_free(SSL *ssl);

/* Advances the handshake: 0 when done, or PT_TLS_AGAIN_* or PT_TLS_ERROR. */
int pt_tls_handshake(SSL *ssl);
/* True when ALPN chose HTTP/2. */
bool pt_tls_is_h2(SSL *ssl);
/* Reads up to <len> bytes: the count, 0 at a clean end, or PT_TLS_AGAIN_* / PT_TLS_ERROR. */
ssize_t pt_tls_read(SSL *ssl, void *buf, size_t len);
/* Writes up to <len> bytes: the count, or PT_TLS_AGAIN_* / PT_TLS_ERROR. A retry after AGAIN
 * must offer the same first bytes again. */
ssize_t pt_tls_write(SSL *ssl, const void *buf, size_t len);
/* Sends close_notify, best effort. */
void pt_tls_shutdown(SSL *ssl);

/* The client context for upstreams: TLS 1.2+, peers verified against the system's trust store
 * (SSL_CERT_FILE and SSL_CERT_DIR are honoured). Reads the store: call once before the loops
 * run. Returns 0, or -1 with a message logged. */
int pt_tls_client_init(void);
void pt_tls_client_cleanup(void);

/* A client session on connected socket <fd> to <host> (SNI and the certificate's name), or
 * NULL. Drive it with pt_tls_handshake(). */
SSL *pt_tls_client_new(int fd, const char *host);

#endif
