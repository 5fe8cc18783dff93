/*
 * error.c - the names and messages of accord's error codes, generated from ACCORD_ERRNO_MAP in
 * accord.h so the three can never disagree, and the helper that fills an accord_error.
 */
#include "accord.h"
#include "store.h"

#include <stdarg.h>
#include <stdio.h>

const char *accord_strerror(int rc)
{
    switch (rc) {
#define XX(name, val, msg)                                                                         \
    case ACCORD_E##name:                                                                           \
        return msg;
        ACCORD_ERRNO_MAP(XX)
#undef XX
    case 0:
        return "success";
    }
    return "unknown error";
}

const char *accord_err_name(int rc)
{
    switch (rc) {
#define XX(name, val, msg)                                                                         \
    case ACCORD_E##name:                                                                           \
        return #name;
        ACCORD_ERRNO_MAP(XX)
#undef XX
    case 0:
        return "OK";
    }
    return "UNKNOWN";
}

int accord_err_set(accord_error *err, int rc, const char *fmt, ...)
{
    if (err) {
        err->code = rc;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return rc;
}
