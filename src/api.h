/*
 * api.h - accord's own HTTPS routes beside TAXII: the JSON API (/api/...) and defender feeds
 * (/feeds/...).
 *
 * server.c hands every request whose path starts with one of the prefixes in api.c's table to
 * api_handle, after TAXII's own routes are ruled out.  Each feature keeps its handlers in its own
 * file and adds one line to that table; the handler gets an authenticated caller (or answers
 * 401 itself for public routes, which are marked so in the table).
 */
#ifndef ACCORD_API_H
#define ACCORD_API_H

#include "taxii.h"

typedef struct api_call {
    const taxii_ctx *ctx;
    accord_store *reader;    /* this thread's read handle */
    const taxii_request *rq;
    taxii_response *rs;
    taxii_principal who;     /* the authenticated caller */
    const char *rest;        /* the path after the route's prefix */
} api_call;

typedef void (*api_handler)(api_call *c);

/* 1 when rq->path belongs to the API (rs is then filled), 0 when it does not. */
int api_handle(const taxii_ctx *ctx, accord_store *reader, const taxii_request *rq,
               taxii_response *rs);

/* Answers an error as {"title":..,"description":..,"http_status":..} in application/json. */
void api_fail(api_call *c, int status, const char *title, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The value of query parameter key, or NULL. */
const char *api_param(const api_call *c, const char *key);

/* 1 when the request's If-None-Match lists etag (or "*"); the caller then answers 304. */
int api_etag_matches(const taxii_request *rq, const char *etag);

#define API_JSON "application/json"

/* Answers status with accord's JSON error body {title, description, http_status}. */
void api_error_body(taxii_response *rs, int status, const char *title, const char *desc);

#endif
