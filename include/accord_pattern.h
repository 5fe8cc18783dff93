/*
 * accord_pattern.h - STIX patterning in libaccord (part of the public API; included by accord.h).
 */
#ifndef ACCORD_PATTERN_H
#define ACCORD_PATTERN_H

#endif
