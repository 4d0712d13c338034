/* TLS (see tls.h). */
#include "tls.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static const unsigned char alpn_h2[] = "\x02h2";
static const unsigned char alpn_h1[] = "\x08http/1.1";

/* ALPN: h2 when the context allows it and the client offers it, else http/1.1, else no ALPN
 * (the client then speaks HTTP/1.1 anyway). */
static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    bool http2 = arg != NULL;

    if (http2 && SSL_select_next_proto((unsigned char **)out, outlen, alpn_h2, sizeof(alpn_h2) - 1,
                                       in, inlen) == OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_OK;
    if (SSL_select_next_proto((unsigned char **)out, outlen, alpn_h1, sizeof(alpn_h1) - 1, in,
                              inlen) == OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_OK;
    return SSL_TLSEXT_ERR_NOACK;
}

static void last_error(char *err, size_t errlen, const char *what, const char *file)
{
    unsigned long e = ERR_get_error();
    char reason[256];

    ERR_error_string_n(e, reason, sizeof(reason));
    snprintf(err, errlen, "%s \"%s\": %s", what, file, e ? reason : "unknown error");
    ERR_clear_error();
}

SSL_CTX *pt_tls_ctx_new(const char *cert, const char *key, bool http2, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (ctx == NULL) {
        snprintf(err, errlen, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        last_error(err, errlen, "cannot load the certificate", cert);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        last_error(err, errlen, "cannot load the private key", key);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errlen, "the private key \"%s\" does not match the certificate \"%s\"", key,
                 cert);
        goto fail;
    }
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, http2 ? (void *)1 : NULL);
    return ctx;

fail:
    SSL_CTX_free(ctx);
    return NULL;
}

void pt_tls_ctx_free(SSL_CTX *ctx)
{
    SSL_CTX_free(ctx);
}

SSL *pt_tls_new(SSL_CTX *ctx, int fd)
{
    SSL *ssl = SSL_new(ctx);

    if (ssl == NULL)
        return NULL;
    SSL_set_fd(ssl, fd);
    SSL_set_accept_state(ssl);
    return ssl;
}

void pt_tls_free(SSL *ssl)
{
    SSL_free(ssl);
}

static int again_or_error(SSL *ssl, int rc)
{
    switch (SSL_get_error(ssl, rc)) {
    case SSL_ERROR_WANT_READ:
        return PT_TLS_AGAIN_READ;
    case SSL_ERROR_WANT_WRITE:
        return PT_TLS_AGAIN_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    default:
        ERR_clear_error();
        return PT_TLS_ERROR;
    }
}

int pt_tls_handshake(SSL *ssl)
{
    int rc = SSL_do_handshake(ssl);

    if (rc == 1)
        return 0;
    rc = again_or_error(ssl, rc);
    return rc == 0 ? PT_TLS_ERROR : rc;
}

bool pt_tls_is_h2(SSL *ssl)
{
    const unsigned char *proto;
    unsigned int len;

    SSL_get0_alpn_selected(ssl, &proto, &len);
    return len == 2 && memcmp(proto, "h2", 2) == 0;
}

ssize_t pt_tls_read(SSL *ssl, void *buf, size_t len)
{
    size_t n = 0;
    int rc = SSL_read_ex(ssl, buf, len, &n);

    return rc == 1 ? (ssize_t)n : again_or_error(ssl, rc);
}

ssize_t pt_tls_write(SSL *ssl, const void *buf, size_t len)
{
    size_t n = 0;
    int rc = SSL_write_ex(ssl, buf, len, &n);

    if (rc == 1)
        return (ssize_t)n;
    rc = again_or_error(ssl, rc);
    return rc == 0 ? PT_TLS_ERROR : rc;
}

static SSL_CTX *client_ctx;

int pt_tls_client_init(void)
{
    if (client_ctx != NULL)
        return 0;
    client_ctx = SSL_CTX_new(TLS_client_method());
    if (client_ctx == NULL)
        return -1;
    SSL_CTX_set_min_proto_version(client_ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(client_ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_mode(client_ctx,
                     SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_set_default_verify_paths(client_ctx) != 1)
        ERR_clear_error(); /* no trust store: every upstream fails to verify, which is safe */
    return 0;
}

void pt_tls_client_cleanup(void)
{
    SSL_CTX_free(client_ctx);
    client_ctx = NULL;
}

SSL *pt_tls_client_new(int fd, const char *host)
{
    SSL *ssl;

    if (client_ctx == NULL || (ssl = SSL_new(client_ctx)) == NULL)
        return NULL;
    SSL_set_fd(ssl, fd);
    SSL_set_connect_state(ssl);
    SSL_set_tlsext_host_name(ssl, host);
    SSL_set1_host(ssl, host); /* the certificate must name the host we meant */
    return ssl;
}

void pt_tls_shutdown(SSL *ssl)
{
    SSL_shutdown(ssl);
    ERR_clear_error();
}
