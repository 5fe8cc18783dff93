/*
 * console_pages.h - read endpoints of the web console's sightings, cases, members and feeds pages
 * under /api/console/ (one line in api.c's route table; console_pages.c lists the resources).
 */
#ifndef ACCORD_CONSOLE_PAGES_H
#define ACCORD_CONSOLE_PAGES_H

#include "api.h"
#include "console_api.h"

/* Handles GET /api/console/{sightings,object-cases,roster,collections,peers}. */
void console_pages(api_call *c);

#endif
