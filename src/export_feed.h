/*
 * export_feed.h - GET /feeds/NAME[/FILE] (export_feed.c), the route api.c's table names.
 */
#ifndef ACCORD_EXPORT_FEED_H
#define ACCORD_EXPORT_FEED_H

#include "api.h"

/* Answers one request below /feeds/ (c->rest is "NAME" or "NAME/FILE"). */
void export_feed_handle(api_call *c);

#endif
