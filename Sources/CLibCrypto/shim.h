#ifndef HAVEN_CLIBCRYPTO_SHIM_H
#define HAVEN_CLIBCRYPTO_SHIM_H

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>

// EVP_CIPHER_CTX_ctrl takes these as macros; re-export so Swift can name them.
static const int haven_evp_ctrl_gcm_set_ivlen = EVP_CTRL_GCM_SET_IVLEN;
static const int haven_evp_ctrl_gcm_get_tag = EVP_CTRL_GCM_GET_TAG;
static const int haven_evp_ctrl_gcm_set_tag = EVP_CTRL_GCM_SET_TAG;

#endif
