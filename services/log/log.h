/* SPDX-License-Identifier: MIT */
/* log.h - the secure log service (protocol VEIL_PROTOCOL_LOG in veil/abi.h). */
#ifndef VEIL_SERVICES_LOG_H
#define VEIL_SERVICES_LOG_H

#include <veil/abi.h>
#include <veil/service.h>

extern const struct veil_service veil_log_service;

/* The log's HEAD as VEIL_LOG_HEAD reports it (attestation); false if no log. */
bool veil_log_head_get(const struct veil_monitor *mon, struct veil_log_head *h);

#endif
