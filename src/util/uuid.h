/*
 * uuid.h - random (version 4) UUIDs from the kernel's CSPRNG.
 */
#ifndef ACCORD_UTIL_UUID_H
#define ACCORD_UTIL_UUID_H

/* Writes a lower-case RFC 4122 version 4 UUID and a NUL into out (37 bytes). */
void uuid4_make(char out[37]);

#endif
