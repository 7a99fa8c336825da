/* SPDX-License-Identifier: MIT */
/* registry.c - the services this monitor image offers. */
#include <veil/service.h>

#include "attest/attest.h"
#include "enclave/enclave.h"
#include "kci/kci.h"
#include "log/log.h"
#include "module/module.h"

const struct veil_service *const veil_services[] = {
	&veil_log_service,    &veil_kci_service,     &veil_module_service,
	&veil_attest_service, &veil_enclave_service, NULL,
};
