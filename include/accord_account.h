/*
 * accord_account.h - accounts, API tokens and collection rights (part of the public API;
 * included by accord.h).
 */
#ifndef ACCORD_ACCOUNT_H
#define ACCORD_ACCOUNT_H

#endif
