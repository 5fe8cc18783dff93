/*
 * sign.h - Ed25519 and DSSE (the contract is in include/accord_trust.h, accord_sign_*; src/sign.c
 * explains the key handling and the PAE table).
 */
#ifndef ACCORD_SIGN_H
#define ACCORD_SIGN_H

#include "accord.h"

#endif
