/*
 * case_api.h - disclosure cases over HTTPS (/api/cases...): the handler api.c's route table names,
 * and the request body parser (pure, for the fuzzer).
 */
#ifndef ACCORD_CASE_API_H
#define ACCORD_CASE_API_H

#include "api.h"
#include "util/json.h"

/* Handles /api/cases and everything below it (see case_api.c for the resources). */
void case_api_handle(api_call *c);

/* Answers GET /.well-known/csaf/... from the provider directory's generator (csaf_provider.c):
 * a public route, for anyone. */
void csaf_provider_handle(api_call *c);

/*
 * Parses a request body: a JSON object whose members are among the NULL-terminated keys and are
 * strings or null; out[i] receives keys[i]'s string or NULL (an empty body gives all NULL).  0, or
 * -1 with err naming the member or byte offset.  Strings live in arena a.
 */
int case_api_body(const char *text, size_t len, const char *const *keys, const char **out,
                  ajson_arena *a, char *err, size_t errlen);

#endif
