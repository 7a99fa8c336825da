/* SPDX-License-Identifier: MIT */
/* log.h - the secure log service (protocol VEIL_PROTOCOL_LOG in veil/abi.h). */
#ifndef VEIL_SERVICES_LOG_H
#define VEIL_SERVICES_LOG_H

#include <veil/service.h>

extern const struct veil_service veil_log_service;

#endif
