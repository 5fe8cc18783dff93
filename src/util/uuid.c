/*
 * uuid.c - see uuid.h.  getrandom(2) does not fail for 16 bytes once the pool is initialised;
 * should it ever, the time and a counter keep ids unique within the process.
 */
#include "util/uuid.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

void uuid4_make(char out[37])
{
    static atomic_uint counter;
    unsigned char u[16];
    if (getrandom(u, sizeof(u), 0) != (ssize_t)sizeof(u)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        unsigned c = atomic_fetch_add(&counter, 1);
        memcpy(u, &ts, sizeof(u) < sizeof(ts) ? sizeof(u) : sizeof(ts));
        memcpy(u + 12, &c, sizeof(c));
    }
    u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
    u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
             u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
             u[14], u[15]);
}
