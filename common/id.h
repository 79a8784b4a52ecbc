/* id.h — random identifiers.
 *
 * Ids are 32 lower-case hex characters (128 random bits), the shape of an
 * OpenWhisk activation id (a UUID without dashes). */
#ifndef HC_ID_H
#define HC_ID_H

#include <stddef.h>

#define HC_ID_LEN 32

/* Fill out (HC_ID_LEN + 1 bytes) with a new id. Never fails: falls back to a
 * seeded generator if getrandom(2) is unavailable. */
void hc_id_new(char *out);

/* Nonzero when s is exactly HC_ID_LEN hex characters. */
int hc_id_valid(const char *s);

/* Fill buf with n random bytes (getrandom). Returns 0 or -1. */
int hc_random_bytes(void *buf, size_t n);

/* A random string of n characters from [A-Za-z0-9] plus NUL (keys, tokens). */
void hc_random_alnum(char *out, size_t n);

#endif
