/* SPDX-License-Identifier: MIT */
/* attest.h - the SVSM attestation protocol (protocol 1, SVSM spec 58019). */
#ifndef VEIL_SERVICES_ATTEST_H
#define VEIL_SERVICES_ATTEST_H

#include <veil/service.h>

extern const struct veil_service veil_attest_service;

#endif
