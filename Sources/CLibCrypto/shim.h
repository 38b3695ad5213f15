#ifndef HAVEN_CLIBCRYPTO_SHIM_H
#define HAVEN_CLIBCRYPTO_SHIM_H

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

// EVP_CIPHER_CTX_ctrl takes these as macros; re-export so Swift can name them.
static const int haven_evp_ctrl_gcm_set_ivlen = EVP_CTRL_GCM_SET_IVLEN;
static const int haven_evp_ctrl_gcm_get_tag = EVP_CTRL_GCM_GET_TAG;
static const int haven_evp_ctrl_gcm_set_tag = EVP_CTRL_GCM_SET_TAG;

// A keyed HMAC-SHA256 context, made once and reused for many messages: OpenSSL 3's one-shot
// HMAC() looks the algorithm up in the provider registry (under locks) on every call.
static inline EVP_MAC_CTX *haven_hmac_sha256_new(const unsigned char *key, size_t key_length) {
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL) return NULL;
    EVP_MAC_CTX *context = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);
    if (context == NULL) return NULL;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end() };
    if (EVP_MAC_init(context, key, key_length, params) != 1) {
        EVP_MAC_CTX_free(context);
        return NULL;
    }
    return context;
}

// One MAC with the context's key; 1 on success. `output` holds 32 bytes.
static inline int haven_hmac_sha256_run(EVP_MAC_CTX *context, const unsigned char *message, size_t length, unsigned char *output) {
    size_t written = 0;
    if (EVP_MAC_init(context, NULL, 0, NULL) != 1) return 0;
    if (EVP_MAC_update(context, message, length) != 1) return 0;
    if (EVP_MAC_final(context, output, &written, 32) != 1) return 0;
    return written == 32;
}

// Ed25519 (RFC 8032) through EVP: the key type is a macro Swift cannot name, and signing and
// verifying take a one-shot EVP_DigestSign with no digest. 1 on success.
static inline EVP_PKEY *haven_ed25519_private_key(const unsigned char *seed) {
    return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
}

static inline EVP_PKEY *haven_ed25519_public_key(const unsigned char *raw) {
    return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, 32);
}

// `output` holds 64 bytes.
static inline int haven_ed25519_sign(EVP_PKEY *key, const unsigned char *message, size_t length, unsigned char *output) {
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    if (context == NULL) return 0;
    size_t written = 64;
    int ok = EVP_DigestSignInit(context, NULL, NULL, NULL, key) == 1
        && EVP_DigestSign(context, output, &written, message, length) == 1
        && written == 64;
    EVP_MD_CTX_free(context);
    return ok;
}

static inline int haven_ed25519_verify(EVP_PKEY *key, const unsigned char *signature, const unsigned char *message, size_t length) {
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    if (context == NULL) return 0;
    int ok = EVP_DigestVerifyInit(context, NULL, NULL, NULL, key) == 1
        && EVP_DigestVerify(context, signature, 64, message, length) == 1;
    EVP_MD_CTX_free(context);
    return ok;
}

#endif
